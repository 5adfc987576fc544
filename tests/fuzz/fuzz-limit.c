/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* capfs_parse_limit() and capfs_parse_cpu_max(): the single-value knobs. */
#include <inttypes.h>

#include "fuzz.h"
#include "parse/parse.h"

static void check_limit(const uint8_t *data, size_t size) {
        uint64_t value, again;
        char text[32];
        int r;

        r = capfs_parse_limit((const char *) data, size, &value);
        if (r < 0) {
                FUZZ_CHECK_ERRNO(r);
                return;
        }
        /* Whatever number came out prints and parses back to itself. */
        snprintf(text, sizeof(text), "%" PRIu64 "\n", value);
        FUZZ_CHECK(capfs_parse_limit(text, strlen(text), &again) == 0);
        FUZZ_CHECK(again == value);
}

static void check_cpu_max(const uint8_t *data, size_t size) {
        uint64_t quota, period, quota_again, period_again;
        char text[64];
        int r;

        r = capfs_parse_cpu_max((const char *) data, size, &quota, &period);
        if (r < 0) {
                FUZZ_CHECK_ERRNO(r);
                return;
        }
        FUZZ_CHECK(period > 0);
        if (quota == CAPFS_NO_LIMIT)
                snprintf(text, sizeof(text), "max %" PRIu64 "\n", period);
        else
                snprintf(text, sizeof(text), "%" PRIu64 " %" PRIu64 "\n", quota, period);
        FUZZ_CHECK(capfs_parse_cpu_max(text, strlen(text), &quota_again, &period_again) == 0);
        FUZZ_CHECK(quota_again == quota && period_again == period);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        check_limit(data, size);
        check_cpu_max(data, size);
        return 0;
}
