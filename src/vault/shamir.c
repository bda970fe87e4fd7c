/*
 * shamir.c - Shamir k-of-n secret sharing over GF(2^8).
 *
 * Each secret byte is the constant term of its own random polynomial of
 * degree k-1 over GF(2^8) (the AES field, reduction polynomial
 * x^8+x^4+x^3+x+1); share i is the polynomials evaluated at x = i
 * (1..n). Any k shares give the secret back by Lagrange interpolation at
 * x = 0; k-1 shares say nothing about it (every secret is equally likely).
 *
 * This is arithmetic, not a cipher: the shares are then sealed to each
 * custodian with crypto_box_seal. Multiplication is a fixed 8-step
 * shift-and-add with masks and the inverse is a^254, so no table lookups
 * depend on secret bytes (no cache-timing leak). Randomness comes from
 * randombytes_buf.
 */
#include "vault/vault_int.h"

#include <sodium.h>
#include "base/banned.h"

static unsigned char gf_mul(unsigned char a, unsigned char b)
{
	unsigned char p = 0;

	for (int i = 0; i < 8; i++) {
		p ^= (unsigned char)(-(b & 1) & a);
		/* multiply a by x, reducing by 0x1b when the top bit falls out */
		a = (unsigned char)((a << 1) ^ (-(a >> 7) & 0x1b));
		b >>= 1;
	}
	return p;
}

/* a^254 = a^-1 for a != 0 (and 0 for 0). */
static unsigned char gf_inv(unsigned char a)
{
	unsigned char r = 1, base = a;

	for (int e = 254; e; e >>= 1) {
		if (e & 1)
			r = gf_mul(r, base);
		base = gf_mul(base, base);
	}
	return r;
}

enum err vault_shamir_split(const unsigned char *secret, size_t len,
			    unsigned k, unsigned n, unsigned char *shares,
			    struct errmsg *e)
{
	unsigned char coef[255];

	if (k < 1 || n < k || n > 255)
		return err_set(e, ERR_INVAL, "threshold %u of %u custodians "
			       "is not possible", k, n);
	for (unsigned i = 0; i < n; i++)
		shares[i * (len + 1)] = (unsigned char)(i + 1);
	for (size_t j = 0; j < len; j++) {
		coef[0] = secret[j];
		randombytes_buf(coef + 1, k - 1);
		for (unsigned i = 0; i < n; i++) {
			unsigned char x = (unsigned char)(i + 1), y = 0;

			/* Horner: y = (...(c[k-1] x + c[k-2]) x ...) + c[0] */
			for (unsigned c = k; c-- > 0;)
				y = gf_mul(y, x) ^ coef[c];
			shares[i * (len + 1) + 1 + j] = y;
		}
	}
	sodium_memzero(coef, sizeof(coef));
	return ERR_OK;
}

enum err vault_shamir_combine(const unsigned char *shares, unsigned k,
			      size_t len, unsigned char *out,
			      struct errmsg *e)
{
	unsigned char lag[255];

	if (k < 1 || k > 255)
		return err_set(e, ERR_INVAL, "cannot combine %u shares", k);
	/* Lagrange basis at 0: l_i = prod_{j != i} x_j / (x_j - x_i); in
	 * GF(2^8) subtraction is XOR. */
	for (unsigned i = 0; i < k; i++) {
		unsigned char xi = shares[i * (len + 1)], num = 1, den = 1;

		if (xi == 0)
			return err_set(e, ERR_INVAL, "share with x = 0");
		for (unsigned j = 0; j < k; j++) {
			unsigned char xj = shares[j * (len + 1)];

			if (j == i)
				continue;
			if (xj == xi)
				return err_set(e, ERR_INVAL,
					       "two shares with the same x");
			num = gf_mul(num, xj);
			den = gf_mul(den, xj ^ xi);
		}
		lag[i] = gf_mul(num, gf_inv(den));
	}
	for (size_t b = 0; b < len; b++) {
		unsigned char s = 0;

		for (unsigned i = 0; i < k; i++)
			s ^= gf_mul(lag[i], shares[i * (len + 1) + 1 + b]);
		out[b] = s;
	}
	return ERR_OK;
}
