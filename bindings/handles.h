/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * File handles (fuse_file_info.fh) outlive the worker that made them: the kernel keeps sending
 * an open file's fh to whichever worker serves the connection next, and RELEASE may come to a
 * worker that never saw the OPEN. A worker's own handles are its pointers tagged with its
 * generation in the top 16 bits, so that a later worker never takes an earlier one's number for
 * a pointer of its own; it re-creates ("adopts") what such a number stood for from the inode's
 * path and keeps it under that number until RELEASE. Every handle is registered, so that a
 * worker that exits frees the ones the kernel still holds (the next worker adopts them).
 */
#pragma once

#include <glib.h>
#include <stdint.h>

/* The generation of this worker; 0 (the default) tags nothing. */
void handles_set_generation(uint32_t generation);
/* Registers a new handle of this worker and gives the number the kernel is to hold. */
uint64_t handle_register(void *handle, GDestroyNotify free);
/* The handle behind @fh, or NULL when an earlier worker made it and it is not adopted yet. */
void *handle_lookup(uint64_t fh);
/*
 * Keeps @handle for the number @fh an earlier worker made; when another thread adopted @fh
 * first, frees @handle and returns that one.
 */
void *handle_adopt(uint64_t fh, void *handle, GDestroyNotify free);
/* Forgets @fh (RELEASE, or an OPEN whose reply failed) and returns its handle, or NULL. */
void *handle_unregister(uint64_t fh);
/* Frees every handle still registered: the worker is done. */
void handles_clear(void);
