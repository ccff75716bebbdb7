#include <isa-l/igzip_lib.h>
#include <isa-l/crc.h>

/// The default level-buffer size for an ISA-L compression level (0-3), which Swift cannot compute
/// from the header's macros.
static inline unsigned int strata_isal_level_buf_size(int level) {
    switch (level) {
    case 1: return ISAL_DEF_LVL1_DEFAULT;
    case 2: return ISAL_DEF_LVL2_DEFAULT;
    case 3: return ISAL_DEF_LVL3_DEFAULT;
    default: return ISAL_DEF_LVL0_DEFAULT;
    }
}

static inline int strata_isal_deflate_finished(const struct isal_zstream *s) {
    return s->internal_state.state == ZSTATE_END;
}
