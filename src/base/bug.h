/*
 * bug.h - programmer errors (git's BUG(), curl's DEBUGASSERT, SQLite's
 * assert).
 *
 *   BUG(fmt, ...)      a broken invariant: prints "assay: BUG: file:line:
 *                      message" on stderr and aborts. Never for input.
 *   BUG_ON(cond)       BUG() when cond holds, in every build.
 *   DEBUGASSERT(cond)  a header's contract, checked at function entry in
 *                      debug builds (no NDEBUG: the ASan build is Debug);
 *                      compiled out of release builds, so cond must have
 *                      no side effects.
 *
 * The one place below cli that prints: a process with a broken invariant
 * cannot return an error to anybody (git's BUG() does the same).
 */
#ifndef ASSAY_BUG_H
#define ASSAY_BUG_H

_Noreturn void bug_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), cold));

#define BUG(...) bug_fail(__FILE__, __LINE__, __VA_ARGS__)
#define BUG_ON(cond)                                                        \
	do {                                                                \
		if (__builtin_expect(!!(cond), 0))                          \
			BUG("%s", #cond);                                   \
	} while (0)

#ifdef NDEBUG
#define DEBUGASSERT(cond) ((void)0)
#else
#define DEBUGASSERT(cond)                                                   \
	do {                                                                \
		if (__builtin_expect(!(cond), 0))                           \
			BUG("assertion failed: %s", #cond);                 \
	} while (0)
#endif

#endif
