/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Runs a fuzz target over committed inputs without libFuzzer, so that every compiler
 * and every test run replays the corpus. Arguments are files or directories of files;
 * output is TAP, one test per input.
 */
#include "fuzz.h"

/* g_ptr_array_sort() passes pointers to the elements. */
static int compare_names(gconstpointer a, gconstpointer b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static int collect_inputs(const char *path, GPtrArray *inputs) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        GDir *dir;
        const char *name;

        if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
                g_ptr_array_add(inputs, g_strdup(path));
                return 0;
        }
        dir = g_dir_open(path, 0, &error);
        if (!dir) {
                printf("Bail out! %s\n", error->message);
                return -1;
        }
        while ((name = g_dir_read_name(dir)))
                if (name[0] != '.')
                        g_ptr_array_add(names, g_strdup(name));
        g_dir_close(dir);

        /* Directory order varies between file systems; test numbers should not. */
        g_ptr_array_sort(names, compare_names);
        for (guint i = 0; i < names->len; i++)
                g_ptr_array_add(inputs, g_build_filename(path, names->pdata[i], NULL));
        return 0;
}

/* libFuzzer hands the target exactly @size bytes; so does this, for ASan to see overreads. */
static bool replay_one(const char *path) {
        g_autoptr(GError) error = NULL;
        g_autofree char *contents = NULL;
        gsize size;
        uint8_t *data;
        int r;

        if (!g_file_get_contents(path, &contents, &size, &error)) {
                printf("# %s\n", error->message);
                return false;
        }
        data = malloc(size);
        if (!data && size > 0)
                abort();
        if (size > 0)
                memcpy(data, contents, size);
        r = LLVMFuzzerTestOneInput(data, size);
        free(data);
        /* 0 keeps an input, -1 asks libFuzzer to drop it; anything else is undefined. */
        return r == 0 || r == -1;
}

int main(int argc, char *argv[]) {
        g_autoptr(GPtrArray) inputs = g_ptr_array_new_with_free_func(g_free);
        unsigned failed = 0;

        if (argc < 2) {
                fprintf(stderr, "Usage: %s DIR|FILE...\n", argv[0]);
                return 2;
        }
        for (int i = 1; i < argc; i++)
                if (collect_inputs(argv[i], inputs) < 0)
                        return 1;
        if (inputs->len == 0) {
                /* An empty corpus would make this test pass without testing anything. */
                printf("Bail out! no inputs in the given paths\n");
                return 1;
        }

        printf("1..%u\n", inputs->len);
        for (guint i = 0; i < inputs->len; i++) {
                const char *path = inputs->pdata[i];

                /* A crash ends the process: the last line printed names the input. */
                printf("# %s\n", path);
                fflush(stdout);
                if (replay_one(path))
                        printf("ok %u - %s\n", i + 1, path);
                else {
                        printf("not ok %u - %s\n", i + 1, path);
                        failed++;
                }
        }
        return failed > 0 ? 1 : 0;
}
