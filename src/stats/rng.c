/*
 * rng.c - the bootstrap's seeded, reproducible PRNG. Not for secrets.
 *
 * xoshiro256** 1.0 and splitmix64 as published by D. Blackman and
 * S. Vigna, "Scrambled linear pseudorandom number generators", ACM TOMS
 * 47(4), 2021 (reference code: prng.di.unimi.it). Written from the
 * published recurrences; tests/data/stats/make_reference.py carries an
 * independent Python copy that reproduces the same stream.
 */
#include "stats.h"

#include "base/bug.h"
#include "base/banned.h"

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Vigna recommends seeding xoshiro's state from splitmix64 outputs; the
 * state is then never all zero in practice. */
void stats_rng_seed(struct stats_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

uint64_t stats_rng_next(struct stats_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* D. Lemire, "Fast random integer generation in an interval", ACM TOMACS
 * 29(1), 2019: the high word of x * n. The rejection step is left out:
 * for n < 2^32 the bias is below 2^-32, far under bootstrap noise. */
uint64_t stats_rng_below(struct stats_rng *r, uint64_t n)
{
	unsigned __int128 m;

	DEBUGASSERT(n >= 1);
	m = (unsigned __int128)stats_rng_next(r) * n;

	return (uint64_t)(m >> 64);
}

