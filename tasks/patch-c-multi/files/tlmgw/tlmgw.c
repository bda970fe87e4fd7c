/* tlmgw: telemetry gateway, one station per process (see README).
 * Build: gcc -O1 -g -o tlmgw tlmgw.c */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PAYLOAD 4096
#define MAX_KEYS 8

struct kv {
	char key[16];
	char val[48];
};

struct session {
	char name[32];
	struct kv cfg[MAX_KEYS];
	int ncfg;
};

static unsigned char payload[MAX_PAYLOAD];
static struct session *sess;
static unsigned long frames, readings_total;

static unsigned get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static int32_t get32s(const unsigned char *p)
{
	return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

static void on_hello(const unsigned char *p, unsigned len)
{
	if (len == 0 || len > 32) {
		puts("ERR name");
		return;
	}
	for (unsigned i = 0; i < len; i++)
		if (p[i] < 0x21 || p[i] > 0x7e) {
			puts("ERR name");
			return;
		}
	free(sess);
	sess = calloc(1, sizeof *sess);
	memcpy(sess->name, p, len);
	sess->name[len] = '\0';
	printf("HELLO %s\n", sess->name);
}

struct reading {
	unsigned sensor;
	int32_t value;
};

static void on_readings(const unsigned char *p, unsigned len)
{
	if (len < 2) {
		puts("ERR readings");
		return;
	}
	unsigned count = get16(p);
	uint16_t need = count * 6;
	if (count == 0 || len != 2u + need) {
		puts("ERR readings");
		return;
	}
	struct reading *r = malloc(need / 6 * sizeof *r + 1);
	long long sum = 0;
	for (unsigned i = 0; i < count; i++) {
		r[i].sensor = get16(p + 2 + 6 * i);
		r[i].value = get32s(p + 4 + 6 * i);
		sum += r[i].value;
	}
	readings_total += count;
	printf("READINGS %u sum=%lld\n", count, sum);
	free(r);
}

static void on_log(const unsigned char *p, unsigned len)
{
	char line[MAX_PAYLOAD + 64];
	int n = snprintf(line, sizeof line, "LOG %s: ", sess->name);
	for (unsigned i = 0; i < len; i++)
		line[n++] = (p[i] >= 0x20 && p[i] <= 0x7e) ? (char)p[i] : '?';
	line[n++] = '\n';
	line[n] = '\0';
	printf(line);
}

static struct kv *find_key(struct kv *cfg, int n, const char *key)
{
	for (int i = 0; i < n; i++)
		if (strcmp(cfg[i].key, key) == 0)
			return &cfg[i];
	return NULL;
}

static void on_config(const unsigned char *p, unsigned len)
{
	struct kv tmp[MAX_KEYS];
	int n = sess->ncfg;
	memcpy(tmp, sess->cfg, sizeof tmp);
	unsigned i = 0;
	while (i < len) {
		unsigned end = i;
		while (end < len && p[end] != '\n')
			end++;
		if (end > i) {
			const unsigned char *eq = memchr(p + i, '=', end - i);
			if (!eq || eq == p + i) {
				puts("ERR config");
				return;
			}
			char key[16], val[48];
			unsigned klen = (unsigned)(eq - (p + i)), vlen = end - klen - i - 1;
			memcpy(key, p + i, klen);
			key[klen] = '\0';
			memcpy(val, eq + 1, vlen);
			val[vlen] = '\0';
			struct kv *slot = find_key(tmp, n, key);
			if (!slot) {
				if (n == MAX_KEYS) {
					puts("ERR config");
					return;
				}
				slot = &tmp[n++];
				strcpy(slot->key, key);
			}
			strcpy(slot->val, val);
		}
		i = end + 1;
	}
	memcpy(sess->cfg, tmp, sizeof tmp);
	sess->ncfg = n;
	printf("CONFIG %d\n", n);
}

static void on_getcfg(const unsigned char *p, unsigned len)
{
	char key[16];
	if (len == 0 || len > 15) {
		puts("ERR nokey");
		return;
	}
	memcpy(key, p, len);
	key[len] = '\0';
	struct kv *kv = find_key(sess->cfg, sess->ncfg, key);
	if (kv)
		printf("CFG %s=%s\n", kv->key, kv->val);
	else
		puts("ERR nokey");
}

static void on_bye(void)
{
	printf("BYE %s\n", sess->name);
	free(sess);
}

static void dispatch(unsigned type, const unsigned char *p, unsigned len)
{
	if (type == 1) {
		on_hello(p, len);
		return;
	}
	if (type == 7) {
		printf("STATS frames=%lu readings=%lu\n", frames, readings_total);
		return;
	}
	if (type < 2 || type > 6) {
		puts("ERR type");
		return;
	}
	if (!sess) {
		puts("ERR no session");
		return;
	}
	switch (type) {
	case 2: on_readings(p, len); break;
	case 3: on_log(p, len); break;
	case 4: on_config(p, len); break;
	case 5: on_getcfg(p, len); break;
	case 6: on_bye(); break;
	}
}

int main(void)
{
	unsigned char hdr[6];
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		size_t got = fread(hdr, 1, sizeof hdr, stdin);
		if (got == 0)
			break;
		if (got < sizeof hdr) {
			puts("ERR truncated");
			break;
		}
		if (hdr[0] != 'T' || hdr[1] != 'M' || hdr[2] != 1) {
			puts("ERR frame");
			break;
		}
		unsigned len = get16(hdr + 4);
		if (fread(payload, 1, len, stdin) != len) {
			puts("ERR truncated");
			break;
		}
		frames++;
		dispatch(hdr[3], payload, len);
	}
	free(sess);
	return 0;
}
