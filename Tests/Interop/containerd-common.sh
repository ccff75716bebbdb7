# Sourced by the scripts here that run a private containerd.

# ctr_output FILE COMMAND...: runs COMMAND (a `ctr run --rm` that prints), its stdout into FILE.
# ctr 1.6 can lose the whole output of a task that exits at once on a loaded machine (the copy from
# the task's FIFO ends with the task; the test suites run in parallel, several daemons at once on
# two cores): an empty output of a run that succeeded is retried, twice.
ctr_output() {
    local file=$1 attempt
    shift
    for attempt in 1 2 3; do
        "$@" >"$file" || return
        [[ -s $file ]] && return 0
        echo "${0##*/}: ctr printed nothing (attempt $attempt): running it again" >&2
    done
    return 0
}
