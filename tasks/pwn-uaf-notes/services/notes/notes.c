/* Shift-log note service for the water treatment plant operators.
 * Build: gcc -O1 -fpie -pie -fstack-protector-strong -Wl,-z,relro,-z,now
 *        -o notes notes.c */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NOTES 8
#define MAX_NOTE_SIZE 256
#define FLAG_PATH "/srv/flag.txt"

struct note {
	size_t len;
	char *data;
	int in_use;
};

struct session {
	char user[24];
	void (*greet)(struct session *s);
};

static struct note notes[MAX_NOTES];
static struct session *session;

void greet_operator(struct session *s)
{
	printf("Shift log: hello %.24s, you are signed in as operator.\n", s->user);
}

/* Supervisors sign in at the console in the control room only. */
void greet_supervisor(struct session *s)
{
	char flag[128];
	FILE *f = fopen(FLAG_PATH, "r");

	printf("Shift log: supervisor %.24s signed in.\n", s->user);
	if (f && fgets(flag, sizeof flag, f))
		printf("Plant override code: %s", flag);
	if (f)
		fclose(f);
}

static int read_exact(char *buf, size_t len)
{
	return fread(buf, 1, len, stdin) == len ? 0 : -1;
}

static int note_index(const char *arg)
{
	int i = atoi(arg);

	if (i < 0 || i >= MAX_NOTES || !notes[i].data) {
		puts("no such note");
		return -1;
	}
	return i;
}

static void cmd_new(const char *arg)
{
	size_t len = (size_t)strtoul(arg, NULL, 10);
	int i;

	if (len == 0 || len > MAX_NOTE_SIZE) {
		puts("size must be 1..256");
		return;
	}
	for (i = 0; i < MAX_NOTES && notes[i].in_use; i++)
		;
	if (i == MAX_NOTES) {
		puts("log full");
		return;
	}
	notes[i].data = malloc(len);
	notes[i].len = len;
	printf("send %zu bytes\n", len);
	if (read_exact(notes[i].data, len) < 0)
		exit(0);
	notes[i].in_use = 1;
	printf("note %d stored\n", i);
}

static void cmd_show(const char *arg)
{
	int i = note_index(arg);

	if (i < 0)
		return;
	printf("--- note %d (%zu bytes) ---\n", i, notes[i].len);
	fwrite(notes[i].data, 1, notes[i].len, stdout);
	puts("");
}

static void cmd_edit(const char *arg)
{
	int i = note_index(arg);

	if (i < 0)
		return;
	printf("send %zu bytes\n", notes[i].len);
	if (read_exact(notes[i].data, notes[i].len) < 0)
		exit(0);
	puts("note updated");
}

static void cmd_delete(const char *arg)
{
	int i = note_index(arg);

	if (i < 0)
		return;
	free(notes[i].data);
	notes[i].in_use = 0;
	printf("note %d deleted\n", i);
}

static void cmd_login(const char *arg)
{
	if (!session)
		session = malloc(sizeof *session);
	memset(session, 0, sizeof *session);
	strncpy(session->user, arg, sizeof session->user - 1);
	session->user[strcspn(session->user, "\r\n")] = '\0';
	session->greet = greet_operator;
	puts("signed in");
}

static void cmd_greet(void)
{
	if (!session) {
		puts("sign in first");
		return;
	}
	session->greet(session);
}

int main(void)
{
	char line[128];

	setvbuf(stdout, NULL, _IONBF, 0);
	puts("Plant shift log. Commands: new SIZE | show N | edit N | delete N |"
	     " login NAME | greet | quit");
	while (printf("log> "), fgets(line, sizeof line, stdin)) {
		char *arg = strchr(line, ' ');

		arg = arg ? arg + 1 : line + strlen(line);
		if (strncmp(line, "new ", 4) == 0)
			cmd_new(arg);
		else if (strncmp(line, "show ", 5) == 0)
			cmd_show(arg);
		else if (strncmp(line, "edit ", 5) == 0)
			cmd_edit(arg);
		else if (strncmp(line, "delete ", 7) == 0)
			cmd_delete(arg);
		else if (strncmp(line, "login ", 6) == 0)
			cmd_login(arg);
		else if (strncmp(line, "greet", 5) == 0)
			cmd_greet();
		else if (strncmp(line, "quit", 4) == 0)
			break;
		else
			puts("unknown command");
	}
	return 0;
}
