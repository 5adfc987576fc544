/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* capfs_parse_loadavg(): /proc/loadavg. */
#include <inttypes.h>

#include "fuzz.h"
#include "parse/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        CapfsLoadavgLine line, again;
        char text[160];
        int r;

        r = capfs_parse_loadavg((const char *) data, size, &line);
        if (r < 0) {
                FUZZ_CHECK_ERRNO(r);
                return 0;
        }
        /* Printed the way the kernel does, every number comes back unchanged. */
        snprintf(text, sizeof(text),
                 "%" PRIu64 ".%02" PRIu64 " %" PRIu64 ".%02" PRIu64 " %" PRIu64 ".%02" PRIu64 " %" PRIu64
                 "/%" PRIu64 " 1\n",
                 line.load_hundredths[0] / 100, line.load_hundredths[0] % 100, line.load_hundredths[1] / 100,
                 line.load_hundredths[1] % 100, line.load_hundredths[2] / 100, line.load_hundredths[2] % 100,
                 line.running, line.total);
        FUZZ_CHECK(capfs_parse_loadavg(text, strlen(text), &again) == 0);
        FUZZ_CHECK(memcmp(&line, &again, sizeof(line)) == 0);
        return 0;
}
