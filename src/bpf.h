/* A classic BPF interpreter for seccomp filters: the supervisor evaluates
 * the policy's real filter on a notification's seccomp_data to answer it
 * as the kernel would have (--log-denials).
 *
 * Only what the kernel accepts in a seccomp filter is accepted here (see
 * seccomp_check_filter() and bpf_check_classic() in the kernel): loads of
 * seccomp_data words, immediates, the scratch memory, 32-bit ALU, forward
 * jumps, returns. Pure: no system call. */
#ifndef WTBOX_BPF_H
#define WTBOX_BPF_H

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>

#include "error.h"

/* The kernel's limit on the length of one program. */
#define WTB_BPF_MAXINSNS 4096

/* Whether the kernel would load prog as a seccomp filter: every opcode
 * one seccomp allows, jumps inside the program, aligned loads inside
 * seccomp_data, no division by a zero constant, no shift by 32 or more,
 * scratch memory written on every path before it is read, a return at
 * the end. 0, or -1 with err saying which instruction is wrong. */
int bpf_seccomp_check(const struct sock_fprog *prog, wtb_error **err);

/* Run a program that passed bpf_seccomp_check() on d: the SECCOMP_RET_*
 * value the kernel's filter would return. Every instruction runs at most
 * once (jumps go forward). A program that did not pass the check gives
 * 0 (SECCOMP_RET_KILL_THREAD) where it goes wrong. */
uint32_t bpf_seccomp_run(const struct sock_fprog *prog, const struct seccomp_data *d);

#endif
