/* kvd: a tiny line-oriented key-value store, run by inetd on a socket.
 * Protocol: see README. Build: gcc -O1 -g -o kvd kvd.c */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENTRIES 64

struct entry {
	char key[32];
	char val[64];
};

static struct entry *tab[MAX_ENTRIES];

static struct entry *find(const char *key)
{
	for (int i = 0; i < MAX_ENTRIES; i++)
		if (tab[i] && strcmp(tab[i]->key, key) == 0)
			return tab[i];
	return NULL;
}

static int count(void)
{
	int n = 0;
	for (int i = 0; i < MAX_ENTRIES; i++)
		n += tab[i] != NULL;
	return n;
}

static void cmd_set(const char *key, const char *val)
{
	struct entry *e = find(key);
	if (!e) {
		int i;
		for (i = 0; i < MAX_ENTRIES && tab[i]; i++)
			;
		if (i == MAX_ENTRIES) {
			puts("ERR full");
			return;
		}
		e = tab[i] = calloc(1, sizeof *e);
		strcpy(e->key, key);
	}
	strcpy(e->val, val);
	puts("OK");
}

static void cmd_append(const char *key, const char *val)
{
	struct entry *e = find(key);
	if (!e) {
		puts("ERR not found");
		return;
	}
	strcat(e->val, val);
	puts("OK");
}

static void cmd_get(const char *key)
{
	struct entry *e = find(key);
	if (e)
		printf("VALUE %s\n", e->val);
	else
		puts("ERR not found");
}

static void cmd_del(const char *key)
{
	for (int i = 0; i < MAX_ENTRIES; i++)
		if (tab[i] && strcmp(tab[i]->key, key) == 0) {
			free(tab[i]);
			tab[i] = NULL;
			puts("OK");
			return;
		}
	puts("ERR not found");
}

/* Splits "CMD KEY REST..." in place; REST keeps its spaces. */
static int parse(char *line, char *cmd, char **key, char **rest)
{
	char *p = line, *q;
	while (*p == ' ')
		p++;
	q = strchr(p, ' ');
	if (q)
		*q++ = '\0';
	strcpy(cmd, p);
	*key = *rest = NULL;
	if (!q)
		return 1;
	while (*q == ' ')
		q++;
	*key = q;
	q = strchr(q, ' ');
	if (q) {
		*q++ = '\0';
		*rest = q;
	}
	return 1;
}

int main(void)
{
	char line[256];
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof line, stdin)) {
		char cmd[8], *key, *rest;
		line[strcspn(line, "\r\n")] = '\0';
		if (!parse(line, cmd, &key, &rest) || cmd[0] == '\0')
			continue;
		if (strcmp(cmd, "QUIT") == 0) {
			puts("BYE");
			break;
		} else if (strcmp(cmd, "COUNT") == 0) {
			printf("COUNT %d\n", count());
		} else if (!key || !*key) {
			puts("ERR syntax");
		} else if (strcmp(cmd, "GET") == 0) {
			cmd_get(key);
		} else if (strcmp(cmd, "DEL") == 0) {
			cmd_del(key);
		} else if (strcmp(cmd, "SET") == 0 && rest) {
			cmd_set(key, rest);
		} else if (strcmp(cmd, "APPEND") == 0 && rest) {
			cmd_append(key, rest);
		} else {
			puts("ERR syntax");
		}
	}
	for (int i = 0; i < MAX_ENTRIES; i++)
		free(tab[i]);
	return 0;
}
