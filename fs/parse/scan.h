/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A cursor over kernel text for the parsers in this directory. The text comes with a
 * length and no promise of a terminating NUL, so every step here checks the end first;
 * a parser built from these steps cannot read past its input.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct CapfsScan {
        const char *pos;
        const char *end;
} CapfsScan;

static inline CapfsScan capfs_scan_init(const char *buf, size_t len) {
        static const char empty = '\0';

        /* Arithmetic on a NULL pointer is undefined even with a length of 0. */
        if (!buf || len == 0)
                return (CapfsScan){&empty, &empty};
        return (CapfsScan){buf, buf + len};
}

static inline size_t capfs_scan_len(const CapfsScan *s) {
        return (size_t) (s->end - s->pos);
}

static inline bool capfs_scan_eof(const CapfsScan *s) {
        return s->pos >= s->end;
}

static inline bool capfs_scan_is_blank(char c) {
        return c == ' ' || c == '\t';
}

/* The C locale's whitespace, without consulting the locale. */
static inline bool capfs_scan_is_space(char c) {
        return capfs_scan_is_blank(c) || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static inline bool capfs_scan_is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* Skips spaces and tabs on the current line; returns how many. */
static inline size_t capfs_scan_skip_blanks(CapfsScan *s) {
        const char *start = s->pos;

        while (!capfs_scan_eof(s) && capfs_scan_is_blank(*s->pos))
                s->pos++;
        return (size_t) (s->pos - start);
}

/* Skips any whitespace, newlines included. */
static inline void capfs_scan_skip_space(CapfsScan *s) {
        while (!capfs_scan_eof(s) && capfs_scan_is_space(*s->pos))
                s->pos++;
}

/* True when nothing but whitespace is left: kernel files end in "\n", writers may not. */
static inline bool capfs_scan_rest_is_space(const CapfsScan *s) {
        for (const char *p = s->pos; p < s->end; p++)
                if (!capfs_scan_is_space(*p))
                        return false;
        return true;
}

/* Consumes @c if it is next. */
static inline bool capfs_scan_char(CapfsScan *s, char c) {
        if (capfs_scan_eof(s) || *s->pos != c)
                return false;
        s->pos++;
        return true;
}

/* Consumes @word if the text continues with it; what follows is the caller's to check. */
static inline bool capfs_scan_word(CapfsScan *s, const char *word) {
        size_t n = strlen(word);

        if (capfs_scan_len(s) < n || memcmp(s->pos, word, n) != 0)
                return false;
        s->pos += n;
        return true;
}

/* True when @s holds exactly @word. */
static inline bool capfs_scan_equals(const CapfsScan *s, const char *word) {
        size_t n = strlen(word);

        return capfs_scan_len(s) == n && memcmp(s->pos, word, n) == 0;
}

/* A NUL inside a field would silently cut the C string made from it. */
static inline bool capfs_scan_has_nul(const CapfsScan *s) {
        return memchr(s->pos, '\0', capfs_scan_len(s)) != NULL;
}

/*
 * An unsigned decimal: at least one digit, no sign. -EINVAL without a digit, -ERANGE
 * above UINT64_MAX; the position moves only on success.
 */
static inline int capfs_scan_u64(CapfsScan *s, uint64_t *ret) {
        const char *p = s->pos;
        uint64_t value = 0;

        if (p >= s->end || !capfs_scan_is_digit(*p))
                return -EINVAL;
        for (; p < s->end && capfs_scan_is_digit(*p); p++) {
                unsigned digit = (unsigned) (*p - '0');

                if (value > (UINT64_MAX - digit) / 10)
                        return -ERANGE;
                value = value * 10 + digit;
        }
        s->pos = p;
        *ret = value;
        return 0;
}

/*
 * Splits off the next line, without its "\n", into @line. False once the text is used up:
 * "" has no lines, "a" and "a\n" have one.
 */
static inline bool capfs_scan_line(CapfsScan *s, CapfsScan *line) {
        const char *newline;

        if (capfs_scan_eof(s))
                return false;
        newline = memchr(s->pos, '\n', capfs_scan_len(s));
        line->pos = s->pos;
        line->end = newline ? newline : s->end;
        s->pos = newline ? newline + 1 : s->end;
        return true;
}

/* Splits off the run of non-whitespace at the position into @token; false if it is empty. */
static inline bool capfs_scan_token(CapfsScan *s, CapfsScan *token) {
        token->pos = s->pos;
        while (!capfs_scan_eof(s) && !capfs_scan_is_space(*s->pos))
                s->pos++;
        token->end = s->pos;
        return token->pos < token->end;
}

/* "123", "123.4" or "123.45"; digits past the second decimal are dropped, not rounded. */
static inline int capfs_scan_hundredths(CapfsScan *s, uint64_t *ret) {
        uint64_t seconds, fraction = 0;
        unsigned digits = 0;
        int r;

        r = capfs_scan_u64(s, &seconds);
        if (r < 0)
                return r;
        if (capfs_scan_char(s, '.')) {
                for (; !capfs_scan_eof(s) && capfs_scan_is_digit(*s->pos); s->pos++, digits++)
                        if (digits < 2)
                                fraction = fraction * 10 + (uint64_t) (*s->pos - '0');
                if (digits == 0)
                        return -EINVAL;
                if (digits == 1)
                        fraction *= 10;
        }
        if (seconds > (UINT64_MAX - fraction) / 100)
                return -ERANGE;
        *ret = seconds * 100 + fraction;
        return 0;
}
