/* Substation key-vault console (diagnostic build).
 * Build: gcc -O0 -no-pie -Wno-format-security -o vault vault.c */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLAG_PATH "/srv/flag.txt"
#define REQUIRED_CLEARANCE 0x5ec0de42u

unsigned int clearance = 1;

static void open_vault(void)
{
	char flag[128];
	FILE *f;

	if (clearance != REQUIRED_CLEARANCE) {
		printf("vault: clearance 0x%08x is not 0x%08x, access denied\n",
		       clearance, REQUIRED_CLEARANCE);
		return;
	}
	f = fopen(FLAG_PATH, "r");
	if (!f || !fgets(flag, sizeof flag, f)) {
		puts("vault: key store unavailable");
		exit(1);
	}
	printf("vault: opened. key material: %s", flag);
	fclose(f);
}

int main(void)
{
	char line[200];
	int rounds;

	setvbuf(stdout, NULL, _IONBF, 0);
	puts("KEYVAULT diagnostic console. Commands: echo TEXT | vault | quit");
	for (rounds = 0; rounds < 16; rounds++) {
		printf("> ");
		if (!fgets(line, sizeof line, stdin))
			break;
		if (strncmp(line, "quit", 4) == 0)
			break;
		if (strncmp(line, "vault", 5) == 0) {
			open_vault();
		} else if (strncmp(line, "echo ", 5) == 0) {
			/* diagnostic echo of the operator's text */
			printf(line + 5);
		} else {
			puts("unknown command");
		}
	}
	puts("bye");
	return 0;
}
