// Headers only: see include/cfuzz.h.
#include "cfuzz.h"
