/*
 * safeout.h - stdout that only ever carries safe text (safeout.c).
 */
#ifndef ASSAY_CLI_SAFEOUT_H
#define ASSAY_CLI_SAFEOUT_H

/* Replace stdout by a stream that passes every byte through safe_text
 * (newline and tab kept). Call once, before anything is printed. */
void cli_safe_stdout(void);
/* Flush and close that stream (and any byte held back), restore stdout. */
void cli_safe_stdout_end(void);

#endif
