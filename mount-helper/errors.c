/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The launcher's one error convention (launch.h): 0 or a negative errno, and a GError whose
 * message names the step and the path. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "launch.h"

int launch_fail(GError **error, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        g_autofree char *what = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-r), "%s: %s", what, g_strerror(-r));
        return r;
}

int launch_invalid(GError **error, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        g_autofree char *what = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, what);
        return -EINVAL;
}

int write_value(const char *path, const char *value) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n = write(fd, value, strlen(value));
        int r = n < 0 ? -errno : 0;
        close(fd);
        return r;
}

int write_knob(const char *path, const char *value, GError **error) {
        int r = write_value(path, value);
        if (r < 0)
                return launch_fail(error, r, "cannot write '%s' to %s", value, path);
        return 0;
}
