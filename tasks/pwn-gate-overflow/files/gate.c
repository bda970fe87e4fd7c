/* Badge gate controller for the east loading dock.
 * Build: gcc -O0 -fno-stack-protector -no-pie -o gate gate.c */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FLAG_PATH "/srv/flag.txt"

/* Field technicians use this from the serial console; it is not reachable
 * from the network menu. */
void maintenance_console(void)
{
	char flag[128];
	int fd = open(FLAG_PATH, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, flag, sizeof flag - 1);

	if (n <= 0) {
		puts("maintenance: secret store unavailable");
		_exit(1);
	}
	flag[n] = '\0';
	write(1, "MAINTENANCE UNLOCK: ", 20);
	write(1, flag, (size_t)n);
	_exit(0);
}

static int badge_valid(const char *badge)
{
	/* Badges are "DOCK-" followed by four digits. */
	if (strncmp(badge, "DOCK-", 5) != 0)
		return 0;
	for (int i = 5; i < 9; i++)
		if (badge[i] < '0' || badge[i] > '9')
			return 0;
	return 1;
}

static void check_badge(void)
{
	char badge[40];

	printf("Present badge ID: ");
	memset(badge, 0, sizeof badge);
	read(0, badge, 256);
	badge[strcspn(badge, "\r\n")] = '\0';
	if (badge_valid(badge))
		puts("Badge accepted. Dock door cycling.");
	else
		puts("Badge rejected. Incident logged.");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	puts("== East dock gate controller v2.3 ==");
	check_badge();
	puts("Goodbye.");
	return 0;
}
