/*
 * banned.h - functions that must not be used (git's banned.h): each use
 * fails to compile with an error naming the function. Included by every
 * file of src/ after its system headers (whose declarations it would
 * otherwise break), usually last; tests/integration/layering.sh checks.
 *
 *   strcpy, strcat        no bound: use snprintf, buf_adds, xstrdup
 *   sprintf, vsprintf     no bound: use snprintf, buf_printf, xasprintf
 *   atoi, atol            no error detection: base/num.h's strict parser
 *   gets                  no bound at all
 *   system, popen         run a shell over a string: fork/exec an argv
 */
#ifndef ASSAY_BANNED_H
#define ASSAY_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef gets
#define gets(x) BANNED(gets)
#undef system
#define system(x) BANNED(system)
#undef popen
#define popen(x, y) BANNED(popen)

#endif
