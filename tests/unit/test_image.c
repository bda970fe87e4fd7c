/*
 * test_image.c - the image part's parsers and checks: entry paths, link
 * targets, types and sizes; references; the OCI index, manifest, docker
 * manifest.json and config, each with what they must refuse; the
 * streaming SHA-256 against the one-shot one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/xalloc.h"
#include "image/image.h"
#include "vault/vault.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_entry_check(void **state)
{
	struct image_limits lim = { .max_entry_bytes = 1000 };
	struct errmsg e;

	(void)state;
	assert_int_equal(image_entry_check("a/b", NULL, S_IFREG, 10, &lim, &e), ERR_OK);
	assert_int_equal(image_entry_check("./a/./b", NULL, S_IFREG, 0, &lim, &e), ERR_OK);
	assert_int_equal(image_entry_check("a..b/..c", NULL, S_IFREG, 0, &lim, &e), ERR_OK);
	assert_int_equal(image_entry_check("d/", NULL, S_IFDIR, 0, &lim, &e), ERR_OK);
	assert_int_equal(image_entry_check("l", "a/b", 0, 0, &lim, &e), ERR_OK);
	assert_int_equal(image_entry_check("../x", NULL, S_IFREG, 0, &lim, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "path escapes the layer"));
	assert_int_equal(image_entry_check("a/../../x", NULL, S_IFREG, 0, &lim, &e), ERR_INVAL);
	assert_int_equal(image_entry_check("a/..", NULL, S_IFDIR, 0, &lim, &e), ERR_INVAL);
	assert_int_equal(image_entry_check("/etc/x", NULL, S_IFREG, 0, &lim, &e), ERR_INVAL);
	assert_int_equal(image_entry_check("", NULL, S_IFREG, 0, &lim, &e), ERR_INVAL);
	assert_int_equal(image_entry_check("a//b", NULL, S_IFREG, 0, &lim, &e), ERR_INVAL);
	assert_int_equal(image_entry_check(NULL, NULL, S_IFREG, 0, &lim, &e), ERR_INVAL);
	assert_int_equal(image_entry_check("l", "../etc/shadow", 0, 0, &lim, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "hard link target"));
	assert_int_equal(image_entry_check("l", "/etc/shadow", 0, 0, &lim, &e), ERR_INVAL);
	assert_int_equal(image_entry_check("big", NULL, S_IFREG, 1001, &lim, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "declares 1001 bytes"));
	assert_int_equal(image_entry_check("neg", NULL, S_IFREG, -1, &lim, &e), ERR_INVAL);
	assert_int_equal(image_entry_check("t", NULL, 0170000, 0, &lim, &e), ERR_INVAL);
	assert_int_equal(image_entry_check("t", NULL, 0, 0, &lim, &e), ERR_INVAL);
}

static void test_ref_valid(void **state)
{
	(void)state;
	assert_true(image_ref_valid("busybox"));
	assert_true(image_ref_valid("assay-agent"));
	assert_true(image_ref_valid("debian:12.4"));
	assert_true(image_ref_valid("x@sha256:" H64));
	assert_false(image_ref_valid(""));
	assert_false(image_ref_valid("Busybox"));
	assert_false(image_ref_valid("-x"));
	assert_false(image_ref_valid("a/b"));
	assert_false(image_ref_valid("../x"));
	assert_false(image_ref_valid(".x"));
	assert_false(image_ref_valid("x@sha256:abc"));
	assert_false(image_ref_valid("x@sha512:" H64));
	assert_false(image_ref_valid("x@sha256:" H64 "0"));
	assert_false(image_ref_valid("@sha256:" H64));
}

#define IDX(m, plat) "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" m \
	"\",\"digest\":\"sha256:" H64 "\"" plat "}]}"
#define OCI_M "application/vnd.oci.image.manifest.v1+json"

static void test_index(void **state)
{
	static const char ok[] = IDX(OCI_M, "");
	static const char arm[] = IDX(OCI_M, ",\"platform\":{\"os\":\"linux\","
				     "\"architecture\":\"arm64\"}");
	static const char nested[] = IDX("application/vnd.oci.image.index.v1+json", "");
	static const char v1[] = "{\"schemaVersion\":1,\"manifests\":[]}";
	char d[72], *ref;
	bool n;
	struct errmsg e;

	(void)state;
	assert_int_equal(image_parse_index(ok, strlen(ok), d, &ref, &n, &e), ERR_OK);
	assert_string_equal(d, "sha256:" H64);
	assert_false(n);
	assert_null(ref);
	assert_int_equal(image_parse_index(nested, strlen(nested), d, &ref, &n, &e),
			 ERR_OK);
	assert_true(n);
	assert_int_equal(image_parse_index(arm, strlen(arm), d, &ref, &n, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "linux/amd64"));
	assert_int_equal(image_parse_index(v1, strlen(v1), d, &ref, &n, &e), ERR_INVAL);
	assert_int_equal(image_parse_index("{", 1, d, &ref, &n, &e), ERR_PARSE);
}

#define MAN(layer_media, digest) "{\"schemaVersion\":2,\"mediaType\":\"" OCI_M \
	"\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\"," \
	"\"digest\":\"sha256:" H64 "\",\"size\":2},\"layers\":[{\"mediaType\":\"" \
	layer_media "\",\"digest\":\"" digest "\",\"size\":7}]}"

static void test_manifest(void **state)
{
	static const char ok[] = MAN("application/vnd.oci.image.layer.v1.tar+zstd",
				     "sha256:" H64);
	static const char media[] = MAN("application/x-foo", "sha256:" H64);
	static const char algo[] = MAN("application/vnd.oci.image.layer.v1.tar",
				       "sha512:" H64);
	static const char upper[] = MAN("application/vnd.oci.image.layer.v1.tar",
					"sha256:" "0123456789ABCDEF0123456789abcdef"
					"0123456789abcdef0123456789abcdef");
	struct image_manifest m;
	struct errmsg e;

	(void)state;
	assert_int_equal(image_parse_manifest(ok, strlen(ok), &m, &e), ERR_OK);
	assert_int_equal(m.n_layers, 1);
	assert_int_equal(m.layers[0].size, 7);
	image_manifest_release(&m);
	assert_int_equal(image_parse_manifest(media, strlen(media), &m, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "unsupported media type 'application/x-foo'"));
	image_manifest_release(&m);
	assert_int_equal(image_parse_manifest(algo, strlen(algo), &m, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "only sha256"));
	image_manifest_release(&m);
	assert_int_equal(image_parse_manifest(upper, strlen(upper), &m, &e), ERR_PARSE);
	image_manifest_release(&m);
}

static void test_docker_manifest(void **state)
{
	static const char ok[] = "[{\"Config\":\"" H64 ".json\",\"RepoTags\":"
				 "[\"bb:1\"],\"Layers\":[\"a/layer.tar\"]}]";
	static const char two[] = "[{},{}]";
	static const char dotdot[] = "[{\"Config\":\"c.json\",\"Layers\":[\"../x\"]}]";
	static const char abs[] = "[{\"Config\":\"/etc/passwd\",\"Layers\":[\"x\"]}]";
	struct image_manifest m;
	struct errmsg e;

	(void)state;
	assert_int_equal(image_parse_docker_manifest(ok, strlen(ok), &m, &e), ERR_OK);
	assert_string_equal(m.ref_name, "bb:1");
	assert_string_equal(m.layers[0].path, "a/layer.tar");
	image_manifest_release(&m);
	assert_int_equal(image_parse_docker_manifest(two, strlen(two), &m, &e), ERR_INVAL);
	assert_int_equal(image_parse_docker_manifest(dotdot, strlen(dotdot), &m, &e),
			 ERR_INVAL);
	assert_int_equal(image_parse_docker_manifest(abs, strlen(abs), &m, &e), ERR_PARSE);
}

static void test_config(void **state)
{
	static const char ok[] = "{\"config\":{\"Env\":[\"A=1\"],\"Cmd\":[\"sh\"],"
		"\"Entrypoint\":null,\"WorkingDir\":\"/srv\",\"User\":\"100:100\","
		"\"ExposedPorts\":{\"80/tcp\":{},\"53/udp\":{},\"8080\":{}}},"
		"\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" H64 "\"]}}";
	static const char noids[] = "{\"config\":{}}";
	static const char badport[] = "{\"config\":{\"ExposedPorts\":{\"99999/tcp\":{}}},"
		"\"rootfs\":{\"diff_ids\":[]}}";
	static const char badenv[] = "{\"config\":{\"Env\":[1]},\"rootfs\":{\"diff_ids\":[]}}";
	static char ids[IMAGE_MAX_LAYERS][72];
	struct image_config c;
	struct errmsg e;
	size_t n;

	(void)state;
	assert_int_equal(image_parse_config(ok, strlen(ok), &c, ids, &n, &e), ERR_OK);
	assert_int_equal(n, 1);
	assert_string_equal(c.env[0], "A=1");
	assert_null(c.entrypoint);
	assert_string_equal(c.cmd[0], "sh");
	assert_string_equal(c.workdir, "/srv");
	assert_string_equal(c.user, "100:100");
	assert_int_equal(c.n_ports, 2);   /* 53/udp: nothing to probe */
	image_config_release(&c);
	assert_int_equal(image_parse_config(noids, strlen(noids), &c, ids, &n, &e),
			 ERR_PARSE);
	assert_int_equal(image_parse_config(badport, strlen(badport), &c, ids, &n, &e),
			 ERR_PARSE);
	assert_int_equal(image_parse_config(badenv, strlen(badenv), &c, ids, &n, &e),
			 ERR_PARSE);
}

static void test_sha256_stream(void **state)
{
	struct vault_sha256 h;
	char a[65], b[65];

	(void)state;
	vault_sha256_hex("hello world", 11, a);
	vault_sha256_init(&h);
	vault_sha256_update(&h, "hello ", 6);
	vault_sha256_update(&h, NULL, 0);
	vault_sha256_update(&h, "world", 5);
	vault_sha256_final_hex(&h, b);
	assert_string_equal(a, b);
}

static void test_tar_check_mem(void **state)
{
	/* one ustar header for "../x" (a regular file of size 0) */
	unsigned char tar[2048] = { 0 };
	unsigned sum = 0;
	size_t n;
	struct errmsg e;

	(void)state;
	memcpy(tar, "../x", 4);
	memcpy(tar + 100, "0000644", 7);
	memcpy(tar + 124, "00000000000", 11);
	memcpy(tar + 136, "00000000000", 11);
	tar[156] = '0';
	memcpy(tar + 257, "ustar", 6);
	memcpy(tar + 263, "00", 2);
	memset(tar + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += tar[i];
	snprintf((char *)tar + 148, 8, "%06o", sum);
	assert_int_equal(image_tar_check_mem(tar, sizeof(tar), NULL, &n, &e), ERR_INVAL);
	assert_non_null(strstr(e.text, "'../x'"));
	assert_int_equal(image_tar_check_mem("junk", 4, NULL, &n, &e), ERR_PARSE);
}

/* The record a sealed archive carries keeps each layer's mark; a sealed
 * digest that is not sha256 + 64 hex is refused. */
static void test_record_marks(void **state)
{
	struct image_layer l[2] = { { .size = 1 }, { .size = 2 } };
	struct image_info im = { .name = "app", .format = "oci-layout",
				 .source = "s", .layers = l, .n_layers = 2 };
	struct image_info *back = NULL;
	struct buf b;
	struct errmsg e;
	char *bad;

	(void)state;
	snprintf(im.digest, sizeof(im.digest), "sha256:%064d", 1);
	snprintf(l[0].diff_id, 72, "sha256:%064d", 2);
	snprintf(l[1].diff_id, 72, "sha256:%064d", 3);
	snprintf(l[0].base, sizeof(l[0].base), "base");
	snprintf(l[1].sealed, 72, "sha256:%064d", 4);
	buf_init(&b, 1 << 20);
	assert_int_equal(image_record_json(&im, &b, &e), ERR_OK);
	assert_int_equal(image_record_parse_mem("app", b.data, b.len, &back, &e), ERR_OK);
	assert_int_equal(back->n_layers, 2);
	assert_string_equal(back->layers[0].base, "base");
	assert_string_equal(back->layers[0].sealed, "");
	assert_string_equal(back->layers[1].sealed, l[1].sealed);
	assert_string_equal(back->layers[1].base, "");
	image_info_free(back);
	bad = strstr(b.data, l[1].sealed);
	assert_non_null(bad);
	bad[8] = 'X';
	assert_int_equal(image_record_parse_mem("app", b.data, b.len, &back, &e), ERR_PARSE);
	assert_int_equal(image_record_parse_mem("Bad/Name", "{}", 2, &back, &e), ERR_PARSE);
	buf_release(&b);
}

static void put(const char *dir, const char *rel, const char *text)
{
	char *p = path_join(dir, rel);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

/* A layer in store a, with a whiteout (char 0/0), an opaque directory
 * and a hard link: tarred, restored into store b, the same tree. */
static void make_layer(const char *root)
{
	char *p;

	assert_int_equal(mkdir(root, 0755), 0);
	p = path_join(root, "d");
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(setxattr(p, "user.overlay.opaque", "y", 1, 0), 0);
	free(p);
	put(root, "d/f", "secret\n");
	p = path_join(root, "d/f");
	{
		char *q = path_join(root, "d/g");

		assert_int_equal(link(p, q), 0);
		free(q);
	}
	free(p);
	p = path_join(root, "gone");
	assert_int_equal(mknod(p, S_IFCHR, makedev(0, 0)), 0);
	free(p);
}

static void check_restored(const char *root)
{
	char *p = path_join(root, "gone"), v[2];
	struct stat a, b;

	assert_int_equal(lstat(p, &a), 0);
	assert_true(S_ISCHR(a.st_mode) && a.st_rdev == 0);
	free(p);
	p = path_join(root, "d");
	assert_int_equal(getxattr(p, "user.overlay.opaque", v, sizeof(v)), 1);
	free(p);
	p = path_join(root, "d/f");
	assert_int_equal(stat(p, &a), 0);
	free(p);
	p = path_join(root, "d/g");
	assert_int_equal(stat(p, &b), 0);
	free(p);
	assert_true(a.st_ino == b.st_ino && a.st_nlink == 2);
}

static void test_layer_tar_restore(void **state)
{
	char tmpl[] = "/tmp/test-image-XXXXXX", *dir = mkdtemp(tmpl), *sa, *sb, *l;
	char id[72], digest[72], wrong[72];
	struct image_store *a, *b;
	struct errmsg e;
	struct buf tar;

	(void)state;
	if (geteuid() != 0)
		skip();                 /* whiteouts are device nodes */
	assert_non_null(dir);
	sa = path_join(dir, "a");
	sb = path_join(dir, "b");
	snprintf(id, sizeof(id), "sha256:%064d", 7);
	assert_int_equal(image_store_open(sa, &a, &e), ERR_OK);
	assert_int_equal(image_store_open(sb, &b, &e), ERR_OK);
	l = xasprintf("%s/layers/%s", sa, id + 7);
	make_layer(l);
	buf_init(&tar, 1 << 20);
	assert_int_equal(image_layer_tar(a, id, &tar, digest, &e), ERR_OK);
	/* a digest other than the sealed one: refused, nothing left */
	snprintf(wrong, sizeof(wrong), "sha256:%064d", 0);
	assert_int_equal(image_layer_restore(b, id, tar.data, tar.len, wrong, &e),
			 ERR_CRYPTO);
	assert_non_null(strstr(e.text, "not the sealed"));
	assert_null(image_layer_dir(b, id));
	assert_int_equal(image_layer_restore(b, id, tar.data, tar.len, digest, &e),
			 ERR_OK);
	free(l);
	l = image_layer_dir(b, id);
	assert_non_null(l);
	check_restored(l);
	free(l);
	{
		char *t = path_join(sb, "tmp");

		assert_int_equal(rmdir(t), 0);  /* empty: no work left behind */
		free(t);
	}
	buf_release(&tar);
	image_store_close(a);
	image_store_close(b);
	assert_int_equal(rm_rf(dir, &e), ERR_OK);
	free(sa);
	free(sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry_check),
		cmocka_unit_test(test_ref_valid),
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_manifest),
		cmocka_unit_test(test_docker_manifest),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_sha256_stream),
		cmocka_unit_test(test_tar_check_mem),
		cmocka_unit_test(test_record_marks),
		cmocka_unit_test(test_layer_tar_restore),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
