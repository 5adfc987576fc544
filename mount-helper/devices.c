/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The devices a container may use, one set of rules for both cgroup layouts: every node may be
 * made (mknod; a node is useless without access), only the basic ones, the console, ptmx and the
 * ptys read and written. On v1 they are the devices controller's whitelist of the outer cgroup;
 * cgroup2 has no devices controller, so there they are a BPF_CGROUP_DEVICE program attached to
 * the outer cgroup, which every cgroup below runs too (programs added further down only narrow).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>

#include "launch.h"

const DeviceNode device_nodes[] = {
        {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};
const size_t device_nodes_count = G_N_ELEMENTS(device_nodes);

/* Besides the nodes: the console, ptmx and the ptys. */
static const DeviceRule console_and_ptys[] = {{5, 1}, {5, 2}, {136, -1}};

GArray *device_rules(void) {
        GArray *rules = g_array_new(FALSE, FALSE, sizeof(DeviceRule));
        for (size_t i = 0; i < device_nodes_count; i++) {
                DeviceRule rule = {(int32_t) device_nodes[i].major, (int32_t) device_nodes[i].minor};
                g_array_append_val(rules, rule);
        }
        g_array_append_vals(rules, console_and_ptys, G_N_ELEMENTS(console_and_ptys));
        return rules;
}

GPtrArray *device_whitelist_v1(void) {
        GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GArray) rules = device_rules();
        g_ptr_array_add(lines, g_strdup("c *:* m"));
        g_ptr_array_add(lines, g_strdup("b *:* m"));
        for (guint i = 0; i < rules->len; i++) {
                DeviceRule *r = &g_array_index(rules, DeviceRule, i);
                g_autofree char *minor = r->minor < 0 ? g_strdup("*") : g_strdup_printf("%d", r->minor);
                g_ptr_array_add(lines, g_strdup_printf("c %d:%s rwm", r->major, minor));
        }
        return lines;
}

int devices_restrict_v1(const Hierarchy *h, GError **error) {
        g_autofree char *deny = g_build_filename(h->outer, "devices.deny", NULL);
        g_autofree char *allow = g_build_filename(h->outer, "devices.allow", NULL);
        g_autoptr(GPtrArray) lines = device_whitelist_v1();
        int r = write_knob(deny, "a", error);
        for (guint i = 0; r == 0 && i < lines->len; i++)
                r = write_knob(allow, lines->pdata[i], error);
        return r;
}

/* The program's context is struct bpf_cgroup_dev_ctx: access_type (access << 16 | type), major,
 * minor; it returns 1 to allow. */
static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
        return (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
}

enum { R0, R1, R2, R3, R4, R5 };

/* "return VERDICT": two instructions, which the test before them jumps over when it fails. */
static void emit_return(GArray *prog, int32_t verdict) {
        struct bpf_insn ret[] = {insn(BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, verdict),
                                 insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)};
        g_array_append_vals(prog, ret, G_N_ELEMENTS(ret));
}

/* Character device MAJOR:MINOR (MINOR -1: any) may be read, written and made. */
static void emit_char_rule(GArray *prog, int32_t major, int32_t minor) {
        struct bpf_insn test_major = insn(BPF_JMP | BPF_JNE | BPF_K, R4, 0, minor < 0 ? 2 : 3, major);
        g_array_append_val(prog, test_major);
        if (minor >= 0) {
                struct bpf_insn test_minor = insn(BPF_JMP | BPF_JNE | BPF_K, R5, 0, 2, minor);
                g_array_append_val(prog, test_minor);
        }
        emit_return(prog, 1);
}

GArray *device_program(void) {
        GArray *prog = g_array_new(FALSE, FALSE, sizeof(struct bpf_insn));
        struct bpf_insn head[] = {
                insn(BPF_LDX | BPF_MEM | BPF_W, R2, R1, offsetof(struct bpf_cgroup_dev_ctx, access_type), 0),
                insn(BPF_LDX | BPF_MEM | BPF_W, R4, R1, offsetof(struct bpf_cgroup_dev_ctx, major), 0),
                insn(BPF_LDX | BPF_MEM | BPF_W, R5, R1, offsetof(struct bpf_cgroup_dev_ctx, minor), 0),
                insn(BPF_ALU64 | BPF_MOV | BPF_X, R3, R2, 0, 0),
                insn(BPF_ALU64 | BPF_AND | BPF_K, R3, 0, 0, 0xffff),
                insn(BPF_ALU64 | BPF_RSH | BPF_K, R2, 0, 0, 16),
                /* mknod alone, of any node. */
                insn(BPF_JMP | BPF_JNE | BPF_K, R2, 0, 2, BPF_DEVCG_ACC_MKNOD),
        };
        g_array_append_vals(prog, head, G_N_ELEMENTS(head));
        emit_return(prog, 1);
        /* Past here only character devices are allowed at all. */
        struct bpf_insn char_only = insn(BPF_JMP | BPF_JEQ | BPF_K, R3, 0, 2, BPF_DEVCG_DEV_CHAR);
        g_array_append_val(prog, char_only);
        emit_return(prog, 0);
        g_autoptr(GArray) rules = device_rules();
        for (guint i = 0; i < rules->len; i++) {
                DeviceRule *r = &g_array_index(rules, DeviceRule, i);
                emit_char_rule(prog, r->major, r->minor);
        }
        emit_return(prog, 0);
        return prog;
}

int device_program_load(char *log, size_t log_size) {
        g_autoptr(GArray) prog = device_program();
        union bpf_attr load = {
                .prog_type = BPF_PROG_TYPE_CGROUP_DEVICE,
                .insns = (uint64_t) (uintptr_t) prog->data,
                .insn_cnt = prog->len,
                .license = (uint64_t) (uintptr_t) "LGPL",
                .log_buf = (uint64_t) (uintptr_t) log,
                .log_size = (uint32_t) log_size,
                .log_level = 1,
        };
        int fd = (int) syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load));
        return fd < 0 ? -errno : fd;
}

int devices_restrict_v2(const Hierarchy *h, GError **error) {
        char log[4096] = "";
        int prog_fd = device_program_load(log, sizeof(log));
        if (prog_fd < 0)
                return launch_fail(error, prog_fd,
                                   "cannot load the device program for cgroup %s (bpf BPF_PROG_LOAD)%s%s",
                                   h->outer, *log ? "; verifier: " : "", log);
        int cg_fd = open(h->outer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cg_fd < 0) {
                int r = launch_fail(error, -errno, "cannot open cgroup %s", h->outer);
                close(prog_fd);
                return r;
        }
        union bpf_attr attach = {
                .target_fd = (uint32_t) cg_fd,
                .attach_bpf_fd = (uint32_t) prog_fd,
                .attach_type = BPF_CGROUP_DEVICE,
                .attach_flags = BPF_F_ALLOW_MULTI,
        };
        int r = (int) syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof(attach)) < 0 ? -errno : 0;
        close(cg_fd);
        /* Attached, the program lives as long as the cgroup. */
        close(prog_fd);
        if (r < 0)
                return launch_fail(error, r,
                                   "cannot attach the device program to cgroup %s (bpf BPF_PROG_ATTACH)",
                                   h->outer);
        return 0;
}
