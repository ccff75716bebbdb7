import GRDB

/// The tables of `MetadataDB`, one migration per schema version; a version once released is never
/// edited, only followed by a new one.
enum Schema {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: content and leases") { db in
            try db.create(table: "blob") { t in
                t.primaryKey("digest", .text)
                t.column("size", .integer).notNull()
                t.column("created", .integer).notNull()  // nanoseconds since 1970
                t.column("updated", .integer).notNull()
            }
            try db.create(table: "blobLabel") { t in
                t.column("digest", .text).notNull().references("blob", onDelete: .cascade)
                t.column("key", .text).notNull()
                t.column("value", .text).notNull()
                t.primaryKey(["digest", "key"])
            }
            try db.create(table: "lease") { t in
                t.primaryKey("id", .text)
                t.column("created", .integer).notNull()
                t.column("expires", .integer)  // nanoseconds since 1970; nil: until removed
            }
            try db.create(table: "leaseLabel") { t in
                t.column("lease", .text).notNull().references("lease", onDelete: .cascade)
                t.column("key", .text).notNull()
                t.column("value", .text).notNull()
                t.primaryKey(["lease", "key"])
            }
            // What a lease holds: blobs ("content"), ingests by ref ("ingest"), snapshots by key.
            try db.create(table: "leaseResource") { t in
                t.column("lease", .text).notNull().references("lease", onDelete: .cascade)
                t.column("kind", .text).notNull()
                t.column("id", .text).notNull()
                t.primaryKey(["lease", "kind", "id"])
            }
        }
        m.registerMigration("v2: snapshots") { db in
            // Keys are unique per snapshotter; directories are named by id, which a commit keeps.
            try db.create(table: "snapshot") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("snapshotter", .text).notNull()
                t.column("key", .text).notNull()
                t.column("kind", .text).notNull()
                t.column("parent", .integer).references("snapshot", onDelete: .restrict)
                t.column("created", .integer).notNull()
                t.column("updated", .integer).notNull()
                t.column("inodes", .integer).notNull().defaults(to: 0)
                t.column("size", .integer).notNull().defaults(to: 0)
                t.uniqueKey(["snapshotter", "key"])
            }
            try db.create(index: "snapshotParent", on: "snapshot", columns: ["parent"])
            try db.create(table: "snapshotLabel") { t in
                t.column("snapshot", .integer).notNull().references("snapshot", onDelete: .cascade)
                t.column("key", .text).notNull()
                t.column("value", .text).notNull()
                t.primaryKey(["snapshot", "key"])
            }
        }
        m.registerMigration("v3: snapshot evidence and leases") { db in
            try db.alter(table: "snapshot") { t in
                // When an Active native snapshot's copy of its parent was complete (ctime, ns): its
                // diff trusts entries whose change time has not moved past it.
                t.add(column: "copiedAt", .integer)
                // 1: created under a lease (an unpack's, a client's), so not a gc root of its own.
                t.add(column: "leased", .integer).notNull().defaults(to: 0)
            }
        }
        m.registerMigration("v4: stacked snapshots and refs") { db in
            try db.alter(table: "snapshot") { t in
                // Overlay whiteouts (0/0 devices) in the committed layer: a stack that moves the
                // layer off its parents must check that each still lands in a merged directory.
                t.add(column: "whiteouts", .integer).notNull().defaults(to: 0)
            }
            // A stacked snapshot's layers: other committed snapshots' own directories, top first.
            try db.create(table: "snapshotLower") { t in
                t.column("snapshot", .integer).notNull().references("snapshot", onDelete: .cascade)
                t.column("position", .integer).notNull()
                t.column("lower", .integer).notNull().references("snapshot", onDelete: .restrict)
                t.primaryKey(["snapshot", "position"])
            }
            try db.create(index: "snapshotLowerLower", on: "snapshotLower", columns: ["lower"])
            // Merge and Diff refs (`strata ref`): the record is JSON, what it holds is in columns.
            try db.create(table: "ref") { t in
                t.primaryKey("name", .text)
                t.column("snapshotter", .text).notNull()
                t.column("created", .integer).notNull()
                t.column("body", .text).notNull()
            }
        }
        return m
    }
}
