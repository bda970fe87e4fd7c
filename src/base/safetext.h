/*
 * safetext.h - the one function that makes hostile text safe to show.
 *
 * Everything a box or a model produced (tool output, model text, tool
 * arguments, errors quoting them, file names) reaches an evaluator's
 * terminal (`assay show`, `--transcript`, progress, logs) or the HTML
 * report. The agent is paid in score and may try to attack that reader:
 * rewrite the screen with escape sequences (CSI, OSC 52 to set the
 * clipboard, OSC 8 links, DCS, device-status queries that make the
 * terminal type back), hide or reorder text with Unicode bidi controls
 * ("Trojan Source"), or cut what is shown with a NUL. safe_text() maps
 * every such character to a visible escape:
 *
 *   C0 controls (U+0000..U+001F) but the newline and tab a caller keeps,
 *   DEL (U+007F), C1 controls (U+0080..U+009F)   -> \u0000..\u009f
 *       (so ESC is \u001b: no CSI, OSC, DCS, ST or SOS/PM/APC survives,
 *        in 7-bit or 8-bit form)
 *   bidi embeddings, overrides, isolates and marks (U+061C, U+200E,
 *   U+200F, U+202A..U+202E, U+2066..U+2069), line and paragraph
 *   separators (U+2028, U+2029)                  -> \uNNNN
 *   bytes that are not valid UTF-8               -> \xNN
 *
 * The \uNNNN form is JSON's own: JSON text (which never holds a raw
 * control or invalid UTF-8, but may hold raw C1 and bidi characters in
 * its strings) keeps its meaning, so one filter serves text and JSON.
 * A NUL inside the n bytes is escaped like any control, never an end.
 * Everything else (printable ASCII, valid UTF-8 text, the backslash
 * itself) is copied unchanged, so ordinary output reads as it was. The
 * result is valid UTF-8 with no byte below 0x20 other than the kept
 * newline and tab.
 */
#ifndef ASSAY_SAFETEXT_H
#define ASSAY_SAFETEXT_H

#include <stdbool.h>
#include <stddef.h>

enum safe_text_flags {
	SAFE_KEEP_NEWLINE = 1 << 0,   /* '\n' stays (multi-line blocks) */
	SAFE_KEEP_TAB = 1 << 1,       /* '\t' stays */
};

#define SAFE_MULTILINE (SAFE_KEEP_NEWLINE | SAFE_KEEP_TAB)

/* The n bytes of s made safe to show (flags: enum safe_text_flags). s may
 * be NULL when n is 0. Caller frees; *len_out (may be NULL) gets the
 * length. */
char *safe_text(const char *s, size_t n, unsigned flags, size_t *len_out);

/* safe_text of a NUL-terminated string (NULL gives ""). Caller frees. */
char *safe_str(const char *s, unsigned flags);

/* True when s[0..n) would come out of safe_text unchanged. */
bool safe_text_is_clean(const char *s, size_t n, unsigned flags);

#endif
