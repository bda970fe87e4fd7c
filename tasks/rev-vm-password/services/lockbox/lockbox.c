/* Lockbox firmware interpreter: runs an LBX1 firmware image that checks the
 * maintenance password read from stdin. Built stripped at start-up:
 *   gcc -O2 -s -o lockbox lockbox.c */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXPROG 8192

static uint8_t prog[MAXPROG];
static size_t plen;
static uint32_t reg[8];
static uint8_t mem[256];
static unsigned fails;

static int load(const char *path)
{
	uint8_t hdr[7];
	FILE *f = fopen(path, "rb");
	uint8_t k;

	if (!f || fread(hdr, 1, 7, f) != 7 || memcmp(hdr, "LBX1", 4) != 0)
		return -1;
	plen = (size_t)hdr[4] | (size_t)hdr[5] << 8;
	k = hdr[6];
	if (plen > MAXPROG || fread(prog, 1, plen, f) != plen)
		return -1;
	fclose(f);
	for (size_t i = 0; i < plen; i++) {
		prog[i] ^= k;
		k = (uint8_t)(k * 13 + 7);
	}
	return 0;
}

static uint32_t imm32(size_t pc)
{
	return (uint32_t)prog[pc] | (uint32_t)prog[pc + 1] << 8 |
	       (uint32_t)prog[pc + 2] << 16 | (uint32_t)prog[pc + 3] << 24;
}

static int run(size_t n)
{
	size_t pc = 0;
	int eq = 0;

	while (pc < plen) {
		uint8_t op = prog[pc++];
		uint8_t a = pc < plen ? prog[pc] : 0;
		uint8_t r = a >> 4 & 7, s = a & 7;
		int16_t off;

		switch (op) {
		case 0x3a: reg[a & 7] = imm32(pc + 1); pc += 5; break;
		case 0x91: reg[a & 7] = mem[prog[pc + 1]]; pc += 2; break;
		case 0x17: reg[r] += reg[s]; pc++; break;
		case 0xc4: reg[r] ^= reg[s]; pc++; break;
		case 0x5e: reg[r] *= reg[s]; pc++; break;
		case 0x2b: {
			unsigned c = prog[pc + 1] & 31;
			uint32_t v = reg[a & 7];
			reg[a & 7] = c ? (v << c | v >> (32 - c)) : v;
			pc += 2;
			break;
		}
		case 0x70: reg[a & 7] &= imm32(pc + 1); pc += 5; break;
		case 0xe9: eq = reg[r] == reg[s]; pc++; break;
		case 0x4c:
		case 0xb3:
			off = (int16_t)(prog[pc] | prog[pc + 1] << 8);
			pc += 2;
			if (op == 0xb3 || eq)
				pc = (size_t)((long)pc + off);
			break;
		case 0x06: fails++; break;
		case 0x85: reg[a & 7] = (uint32_t)n; pc++; break;
		case 0xd2: reg[r] = reg[s]; pc++; break;
		case 0xff: return fails == 0;
		default: return 0;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	char line[128];
	size_t n;

	if (argc != 2 || load(argv[1]) < 0) {
		fprintf(stderr, "usage: lockbox FIRMWARE.lbx  (password on stdin)\n");
		return 2;
	}
	printf("maintenance password: ");
	fflush(stdout);
	if (!fgets(line, sizeof line, stdin))
		return 2;
	line[strcspn(line, "\r\n")] = '\0';
	n = strlen(line);
	memcpy(mem, line, n);
	if (run(n)) {
		puts("ACCESS GRANTED - submit the password to the lockbox server");
		return 0;
	}
	puts("ACCESS DENIED");
	return 1;
}
