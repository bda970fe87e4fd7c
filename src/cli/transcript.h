/*
 * transcript.h - one episode's journal as a conversation people can read
 * (`assay show RUN --episode ID --transcript`), or its structured JSON
 * form (`--json`, docs/FORMAT-cli-json.md). Internal to cli.
 */
#ifndef ASSAY_CLI_TRANSCRIPT_H
#define ASSAY_CLI_TRANSCRIPT_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "store/store.h"

/* The structured transcript of episode ep from its events (any order of
 * kinds; unknown kinds and undecodable data are kept as notes). New
 * reference. */
json_t *cli_transcript_build(const struct store_episode *ep,
			     const struct store_event *evs, size_t n);

/* Render a cli_transcript_build() result as numbered turns. Every text from
 * the model, the box or the task is escaped for the terminal. */
void cli_transcript_write_text(const json_t *t, FILE *out);

/* Why the episode scored what it did, one line (caller frees). */
char *cli_transcript_reason(const struct store_episode *ep,
			    const char *submitted);

#endif
