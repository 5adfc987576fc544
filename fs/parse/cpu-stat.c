/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CPU time accounting: /proc/stat's cpu lines and the cgroup v1 cpuacct files. */
#include <errno.h>
#include <string.h>

#include "parse.h"

/* Same bound as cpusets: a CPU number past it is corrupt input, not a bigger machine. */
#define MAX_CPU CAPFS_CPUSET_LIMIT

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

/* One decimal number at *@p, advancing past it. */
static int parse_u64(const char **p, const char *end, uint64_t *ret) {
        const char *s = *p;
        uint64_t v = 0;

        if (s >= end || !g_ascii_isdigit(*s))
                return -EINVAL;
        for (; s < end && g_ascii_isdigit(*s); s++) {
                unsigned digit = (unsigned) (*s - '0');

                if (v > (UINT64_MAX - digit) / 10)
                        return -ERANGE;
                v = v * 10 + digit;
        }
        *p = s;
        *ret = v;
        return 0;
}

static const char *skip_blanks(const char *p, const char *end) {
        while (p < end && is_blank(*p))
                p++;
        return p;
}

static const char *line_end(const char *p, const char *end) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        return nl ? nl : end;
}

static int parse_stat_cpu_line(const char *p, const char *eol, CapfsStatCpu *ret) {
        CapfsStatCpu line = {.cpu = -1};

        p += strlen("cpu");
        if (p < eol && g_ascii_isdigit(*p)) {
                uint64_t cpu;
                int r = parse_u64(&p, eol, &cpu);

                if (r < 0)
                        return r;
                if (cpu >= MAX_CPU)
                        return -ERANGE;
                line.cpu = (int) cpu;
        }
        if (p >= eol || !is_blank(*p))
                return -EINVAL;

        for (;;) {
                uint64_t v;
                int r;

                p = skip_blanks(p, eol);
                if (p >= eol)
                        break;
                r = parse_u64(&p, eol, &v);
                if (r < 0)
                        return r;
                if (p < eol && !is_blank(*p))
                        return -EINVAL;
                /* Counters a later kernel may add are not ours to interpret. */
                if (line.fields < CAPFS_STAT_CPU_FIELDS)
                        line.value[line.fields++] = v;
        }
        /* user nice system idle: every kernel since 2.4 prints at least these. */
        if (line.fields < 4)
                return -EINVAL;
        *ret = line;
        return 0;
}

int capfs_parse_stat_cpus(const char *buf, size_t len, GArray **ret) {
        g_autoptr(GArray) cpus = g_array_new(FALSE, FALSE, sizeof(CapfsStatCpu));
        const char *end = buf + len;

        for (const char *p = buf; p < end;) {
                const char *eol = line_end(p, end);

                if ((size_t) (eol - p) >= strlen("cpu") && memcmp(p, "cpu", strlen("cpu")) == 0) {
                        CapfsStatCpu line;
                        int r = parse_stat_cpu_line(p, eol, &line);

                        if (r < 0)
                                return r;
                        g_array_append_val(cpus, line);
                }
                p = eol < end ? eol + 1 : end;
        }
        if (cpus->len == 0)
                return -EINVAL;
        *ret = g_steal_pointer(&cpus);
        return 0;
}

int capfs_parse_u64_list(const char *buf, size_t len, GArray **ret) {
        g_autoptr(GArray) values = g_array_new(FALSE, FALSE, sizeof(guint64));
        const char *end = buf + len;
        const char *p = buf;

        for (;;) {
                guint64 v;
                int r;

                while (p < end && g_ascii_isspace(*p))
                        p++;
                if (p >= end)
                        break;
                if (values->len >= MAX_CPU)
                        return -ERANGE;
                r = parse_u64(&p, end, &v);
                if (r < 0)
                        return r;
                if (p < end && !g_ascii_isspace(*p))
                        return -EINVAL;
                g_array_append_val(values, v);
        }
        *ret = g_steal_pointer(&values);
        return 0;
}

static void set_at(GArray *array, guint index, guint64 value) {
        if (index >= array->len)
                g_array_set_size(array, index + 1);
        g_array_index(array, guint64, index) = value;
}

int capfs_parse_cpuacct_usage_all(const char *buf, size_t len, GArray **user, GArray **system) {
        g_autoptr(GArray) u = g_array_new(FALSE, TRUE, sizeof(guint64));
        g_autoptr(GArray) s = g_array_new(FALSE, TRUE, sizeof(guint64));
        const char *end = buf + len;
        bool header = false;

        for (const char *p = buf; p < end;) {
                const char *eol = line_end(p, end);
                uint64_t cpu, vu, vs;
                const char *q = skip_blanks(p, eol);

                if (q == eol) {
                        p = eol < end ? eol + 1 : end;
                        continue;
                }
                if (!header) {
                        /* "cpu user system"; the columns are what the rows mean. */
                        static const char expect[] = "cpu user system";

                        if ((size_t) (eol - q) < strlen(expect) || memcmp(q, expect, strlen(expect)) != 0 ||
                            skip_blanks(q + strlen(expect), eol) != eol)
                                return -EINVAL;
                        header = true;
                        p = eol < end ? eol + 1 : end;
                        continue;
                }
                if (parse_u64(&q, eol, &cpu) < 0 || q >= eol || !is_blank(*q))
                        return -EINVAL;
                q = skip_blanks(q, eol);
                if (parse_u64(&q, eol, &vu) < 0 || q >= eol || !is_blank(*q))
                        return -EINVAL;
                q = skip_blanks(q, eol);
                if (parse_u64(&q, eol, &vs) < 0 || skip_blanks(q, eol) != eol)
                        return -EINVAL;
                if (cpu >= MAX_CPU)
                        return -ERANGE;
                set_at(u, (guint) cpu, vu);
                set_at(s, (guint) cpu, vs);
                p = eol < end ? eol + 1 : end;
        }
        if (!header)
                return -EINVAL;
        *user = g_steal_pointer(&u);
        *system = g_steal_pointer(&s);
        return 0;
}
