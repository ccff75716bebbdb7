import StrataFS
import Testing

/// How `MountedTrees` makes a mount read-only.
@Suite struct MountedTreesTests {
    @Test func aWritableOverlayIsReadAsItsUpperOverItsLowersWithoutItsWorkDirectory() {
        let m = MountedTrees.readOnly(
            Mount(
                type: "overlay", source: "overlay",
                options: ["index=off", "workdir=/s/2/work", "upperdir=/s/2/fs", "lowerdir=/s/1/fs:/s/0/fs", "rw"]))
        #expect(m.options == ["index=off", "lowerdir=/s/2/fs:/s/1/fs:/s/0/fs", "ro"])
    }

    @Test func aReadOnlyOverlayAndABindKeepTheirOptions() {
        let overlay = Mount(type: "overlay", source: "overlay", options: ["lowerdir=/b:/a"])
        #expect(MountedTrees.readOnly(overlay).options == ["lowerdir=/b:/a", "ro"])
        let bind = Mount(type: "bind", source: "/s", options: ["rw", "rbind"])
        #expect(MountedTrees.readOnly(bind).options == ["rbind", "ro"])
    }
}
