/* Classic BPF for seccomp: the kernel's checks, and an interpreter. */
#include "bpf.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Whether the kernel takes `code` in a seccomp filter (after its rewrite
 * of the seccomp_data loads and lengths). */
static bool code_allowed(uint16_t code)
{
	switch (code) {
	case BPF_LD | BPF_W | BPF_ABS:
	case BPF_LD | BPF_W | BPF_LEN:
	case BPF_LDX | BPF_W | BPF_LEN:
	case BPF_RET | BPF_K:
	case BPF_RET | BPF_A:
	case BPF_ALU | BPF_ADD | BPF_K:
	case BPF_ALU | BPF_ADD | BPF_X:
	case BPF_ALU | BPF_SUB | BPF_K:
	case BPF_ALU | BPF_SUB | BPF_X:
	case BPF_ALU | BPF_MUL | BPF_K:
	case BPF_ALU | BPF_MUL | BPF_X:
	case BPF_ALU | BPF_DIV | BPF_K:
	case BPF_ALU | BPF_DIV | BPF_X:
	case BPF_ALU | BPF_AND | BPF_K:
	case BPF_ALU | BPF_AND | BPF_X:
	case BPF_ALU | BPF_OR | BPF_K:
	case BPF_ALU | BPF_OR | BPF_X:
	case BPF_ALU | BPF_XOR | BPF_K:
	case BPF_ALU | BPF_XOR | BPF_X:
	case BPF_ALU | BPF_LSH | BPF_K:
	case BPF_ALU | BPF_LSH | BPF_X:
	case BPF_ALU | BPF_RSH | BPF_K:
	case BPF_ALU | BPF_RSH | BPF_X:
	case BPF_ALU | BPF_NEG:
	case BPF_LD | BPF_IMM:
	case BPF_LDX | BPF_IMM:
	case BPF_MISC | BPF_TAX:
	case BPF_MISC | BPF_TXA:
	case BPF_LD | BPF_MEM:
	case BPF_LDX | BPF_MEM:
	case BPF_ST:
	case BPF_STX:
	case BPF_JMP | BPF_JA:
	case BPF_JMP | BPF_JEQ | BPF_K:
	case BPF_JMP | BPF_JEQ | BPF_X:
	case BPF_JMP | BPF_JGE | BPF_K:
	case BPF_JMP | BPF_JGE | BPF_X:
	case BPF_JMP | BPF_JGT | BPF_K:
	case BPF_JMP | BPF_JGT | BPF_X:
	case BPF_JMP | BPF_JSET | BPF_K:
	case BPF_JMP | BPF_JSET | BPF_X:
		return true;
	default:
		return false;
	}
}

static bool is_cond_jump(uint16_t code)
{
	return BPF_CLASS(code) == BPF_JMP && BPF_OP(code) != BPF_JA;
}

static bool uses_mem(uint16_t code)
{
	return code == (BPF_LD | BPF_MEM) || code == (BPF_LDX | BPF_MEM) || code == BPF_ST ||
	       code == BPF_STX;
}

static int bad_insn(wtb_error **err, size_t pc, const char *why)
{
	return wtb_error_set(err, EINVAL, "invalid seccomp filter: instruction %zu: %s", pc, why);
}

/* One instruction on its own. */
static int check_insn(const struct sock_filter *in, size_t pc, size_t len, wtb_error **err)
{
	uint16_t code = in->code;

	if (!code_allowed(code))
		return bad_insn(err, pc, "opcode not allowed in a seccomp filter");
	if (code == (BPF_LD | BPF_W | BPF_ABS) &&
	    (in->k >= sizeof(struct seccomp_data) || (in->k & 3) != 0))
		return bad_insn(err, pc, "load outside seccomp_data or not aligned");
	if (code == (BPF_ALU | BPF_DIV | BPF_K) && in->k == 0)
		return bad_insn(err, pc, "division by zero");
	if ((code == (BPF_ALU | BPF_LSH | BPF_K) || code == (BPF_ALU | BPF_RSH | BPF_K)) &&
	    in->k >= 32)
		return bad_insn(err, pc, "shift by 32 or more");
	if (uses_mem(code) && in->k >= BPF_MEMWORDS)
		return bad_insn(err, pc, "scratch memory index out of range");
	if (code == (BPF_JMP | BPF_JA) && in->k >= len - pc - 1)
		return bad_insn(err, pc, "jump past the end");
	if (is_cond_jump(code) && (pc + in->jt + 1 >= len || pc + in->jf + 1 >= len))
		return bad_insn(err, pc, "jump past the end");
	return 0;
}

/* The scratch memory is read only where every path to the read wrote it
 * (the kernel's check_load_and_stores(), followed exactly: it also
 * carries what was valid before a return into the next instruction). */
static int check_mem(const struct sock_filter *f, size_t len, wtb_error **err)
{
	uint16_t masks[WTB_BPF_MAXINSNS];
	uint16_t valid = 0;

	memset(masks, 0xff, len * sizeof(masks[0]));
	for (size_t pc = 0; pc < len; pc++) {
		uint16_t code = f[pc].code;

		valid &= masks[pc];
		if (code == BPF_ST || code == BPF_STX) {
			valid |= (uint16_t)(1U << f[pc].k);
		} else if (code == (BPF_LD | BPF_MEM) || code == (BPF_LDX | BPF_MEM)) {
			if (!(valid & (1U << f[pc].k)))
				return bad_insn(err, pc, "scratch memory read before written");
		} else if (code == (BPF_JMP | BPF_JA)) {
			masks[pc + 1 + f[pc].k] &= valid;
			valid = 0xffff;
		} else if (is_cond_jump(code)) {
			masks[pc + 1 + f[pc].jt] &= valid;
			masks[pc + 1 + f[pc].jf] &= valid;
			valid = 0xffff;
		}
	}
	return 0;
}

int bpf_seccomp_check(const struct sock_fprog *prog, wtb_error **err)
{
	size_t len = prog->len;
	uint16_t last;

	if (len == 0 || len > WTB_BPF_MAXINSNS || prog->filter == NULL)
		return wtb_error_set(err, EINVAL, "invalid seccomp filter: %zu instructions", len);
	for (size_t pc = 0; pc < len; pc++)
		if (check_insn(&prog->filter[pc], pc, len, err) < 0)
			return -1;
	last = prog->filter[len - 1].code;
	if (last != (BPF_RET | BPF_K) && last != (BPF_RET | BPF_A))
		return bad_insn(err, len - 1, "the program does not end with a return");
	return check_mem(prog->filter, len, err);
}

/* The ALU: A op operand. Division by zero ends the program with 0, as
 * the kernel's translation of a classic program does. */
static bool alu(uint16_t op, uint32_t *a, uint32_t v)
{
	switch (op) {
	case BPF_ADD:
		*a += v;
		return true;
	case BPF_SUB:
		*a -= v;
		return true;
	case BPF_MUL:
		*a *= v;
		return true;
	case BPF_DIV:
		if (v == 0)
			return false;
		*a /= v;
		return true;
	case BPF_AND:
		*a &= v;
		return true;
	case BPF_OR:
		*a |= v;
		return true;
	case BPF_XOR:
		*a ^= v;
		return true;
	case BPF_LSH:
		*a <<= (v & 31);
		return true;
	case BPF_RSH:
		*a >>= (v & 31);
		return true;
	case BPF_NEG:
		*a = -*a;
		return true;
	default:
		return false;
	}
}

static bool jump_taken(uint16_t op, uint32_t a, uint32_t v)
{
	switch (op) {
	case BPF_JEQ:
		return a == v;
	case BPF_JGT:
		return a > v;
	case BPF_JGE:
		return a >= v;
	default: /* BPF_JSET */
		return (a & v) != 0;
	}
}

uint32_t bpf_seccomp_run(const struct sock_fprog *prog, const struct seccomp_data *d)
{
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {0};
	size_t len = prog->len;

	/* pc only grows: at most len steps. */
	for (size_t pc = 0; pc < len; pc++) {
		const struct sock_filter *in = &prog->filter[pc];
		uint32_t k = in->k;

		switch (BPF_CLASS(in->code)) {
		case BPF_LD:
			if (in->code == (BPF_LD | BPF_W | BPF_ABS)) {
				if (k >= sizeof(*d) || (k & 3) != 0)
					return 0;
				memcpy(&a, (const char *)d + k, sizeof(a));
			} else if (in->code == (BPF_LD | BPF_W | BPF_LEN)) {
				a = sizeof(*d);
			} else if (in->code == (BPF_LD | BPF_IMM)) {
				a = k;
			} else if (in->code == (BPF_LD | BPF_MEM) && k < BPF_MEMWORDS) {
				a = mem[k];
			} else {
				return 0;
			}
			break;
		case BPF_LDX:
			if (in->code == (BPF_LDX | BPF_W | BPF_LEN))
				x = sizeof(*d);
			else if (in->code == (BPF_LDX | BPF_IMM))
				x = k;
			else if (in->code == (BPF_LDX | BPF_MEM) && k < BPF_MEMWORDS)
				x = mem[k];
			else
				return 0;
			break;
		case BPF_ST:
		case BPF_STX:
			if (in->code != BPF_ST && in->code != BPF_STX)
				return 0;
			if (k >= BPF_MEMWORDS)
				return 0;
			mem[k] = in->code == BPF_ST ? a : x;
			break;
		case BPF_ALU:
			if (!code_allowed(in->code) ||
			    !alu(BPF_OP(in->code), &a, BPF_SRC(in->code) == BPF_X ? x : k))
				return 0;
			break;
		case BPF_JMP:
			if (!code_allowed(in->code))
				return 0;
			if (BPF_OP(in->code) == BPF_JA)
				pc += k;
			else
				pc += jump_taken(BPF_OP(in->code), a,
						 BPF_SRC(in->code) == BPF_X ? x : k)
					  ? in->jt
					  : in->jf;
			break;
		case BPF_RET:
			if (in->code == (BPF_RET | BPF_K))
				return k;
			if (in->code == (BPF_RET | BPF_A))
				return a;
			return 0;
		default: /* BPF_MISC */
			if (in->code == (BPF_MISC | BPF_TAX))
				x = a;
			else if (in->code == (BPF_MISC | BPF_TXA))
				a = x;
			else
				return 0;
			break;
		}
	}
	return 0;
}
