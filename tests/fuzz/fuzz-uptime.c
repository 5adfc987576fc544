/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* capfs_parse_uptime(): /proc/uptime. */
#include <inttypes.h>

#include "fuzz.h"
#include "parse/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint64_t uptime, idle, uptime_again, idle_again;
        char text[64];
        int r;

        r = capfs_parse_uptime((const char *) data, size, &uptime, &idle);
        if (r < 0) {
                FUZZ_CHECK_ERRNO(r);
                return 0;
        }
        /* Printed the way the kernel does, the hundredths come back unchanged. */
        snprintf(text, sizeof(text), "%" PRIu64 ".%02" PRIu64 " %" PRIu64 ".%02" PRIu64 "\n", uptime / 100,
                 uptime % 100, idle / 100, idle % 100);
        FUZZ_CHECK(capfs_parse_uptime(text, strlen(text), &uptime_again, &idle_again) == 0);
        FUZZ_CHECK(uptime_again == uptime && idle_again == idle);
        return 0;
}
