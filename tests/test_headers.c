/* SPDX-License-Identifier: Apache-2.0 */
/* test_headers.c — the public headers as a library user sees them: the umbrella header
 * fs38/fs38.h compiles on its own and includes every header of include/fs38/, and every
 * public function of the documented headers has a contract comment (\brief, and \return when
 * it returns something) right above its declaration. Self-containedness of each header on its
 * own is checked at build time (tests/CMakeLists.txt, target fs38_header_check). */
#include "fs38/fs38.h" /* first: must not need anything before it */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include "support.h"

#define INCLUDE_DIR FS38_TEST_VECTORS "/../../include/fs38"

/* Every public header: each one's functions carry the full contract comments (fs38.h declares
 * none; umbrella_includes_every_header checks that no header is missing from it, and
 * every_header_is_checked that none is missing here). */
static const char *const documented[] = { "attest.h", "auth.h",   "boot.h",  "bootstate.h", "cbor.h",
                                          "channel.h",
                                          "coap.h",   "cose.h",   "decommission.h", "decrypt.h", "err.h", "event.h",
                                          "identity.h", "keys.h", "log.h",  "mqtt.h",  "net.h",   "port.h",  "store.h",     "suit.h",
                                          "update.h", "util.h", "privacy.h", "wireless.h" };

static size_t read_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap - 1, f);
    assert_true(feof(f)); /* the whole file fits */
    fclose(f);
    buf[n] = '\0';
    return n;
}

static char g_text[64 * 1024];

/* fs38.h includes every header of include/fs38/ (except itself). */
static void umbrella_includes_every_header(void **state)
{
    (void)state;
    read_file(INCLUDE_DIR "/fs38.h", g_text, sizeof g_text);
    DIR *d = opendir(INCLUDE_DIR);
    assert_non_null(d);
    unsigned seen = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n < 3 || strcmp(de->d_name + n - 2, ".h") != 0 || strcmp(de->d_name, "fs38.h") == 0)
            continue;
        char inc[300];
        snprintf(inc, sizeof inc, "#include \"fs38/%s\"", de->d_name);
        if (!strstr(g_text, inc))
            fail_msg("fs38/fs38.h does not include fs38/%s", de->d_name);
        seen++;
    }
    closedir(d);
    assert_true(seen >= 17);
}

static bool starts_with(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* A top-level function declaration (or static inline definition): starts at column 0 with a
 * return type and names fs38_...( */
static bool is_declaration(const char *line, bool *returns_something)
{
    static const char *const types[] = { "FS38_NODISCARD ", "void ", "const char *", "size_t ",
                                         "bool ", "int ", "uint32_t ", "uint64_t ", "fs38_err ",
                                         "const fs38_diag *", "const fs38_suit_member *" };
    const bool is_inline = starts_with(line, "static inline ");
    if (is_inline)
        line += strlen("static inline ");
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (!starts_with(line, types[i]))
            continue;
        const char *name = strstr(line, "fs38_");
        const char *paren = strchr(line, '(');
        if (!name || !paren || name > paren ||
            (!is_inline && strchr(line, ';') == NULL && strchr(line, ',') == NULL))
            return false;
        *returns_something = !starts_with(line, "void ");
        return true;
    }
    return false;
}

/* Every declaration in the documented headers has a doc comment ending on the line above,
 * starting with "/ * *" and holding \brief (and \return unless it returns void). */
static void functions_have_contracts(void **state)
{
    (void)state;
    unsigned decls = 0;
    for (size_t h = 0; h < sizeof documented / sizeof documented[0]; h++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", INCLUDE_DIR, documented[h]);
        size_t n = read_file(path, g_text, sizeof g_text);
        const char *prev_end = NULL; /* end of the previous line (its '\n') */
        for (size_t pos = 0; pos < n;) {
            const char *line = g_text + pos;
            const char *eol = strchr(line, '\n');
            size_t len = eol ? (size_t)(eol - line) : n - pos;
            bool ret = false;
            char copy[512];
            snprintf(copy, sizeof copy, "%.*s", (int)(len < sizeof copy - 1 ? len : sizeof copy - 1), line);
            if (is_declaration(copy, &ret)) {
                decls++;
                /* the comment must end right above: find "* /" at the end of the previous line */
                if (!prev_end || prev_end - 2 < g_text || strncmp(prev_end - 2, "*/", 2) != 0)
                    fail_msg("%s: no contract comment right above: %s", documented[h], copy);
                const char *open = NULL;
                for (const char *p = prev_end - 2; p >= g_text; p--)
                    if (strncmp(p, "/*", 2) == 0) {
                        open = p;
                        break;
                    }
                assert_non_null(open);
                char block[4096];
                snprintf(block, sizeof block, "%.*s", (int)(prev_end - open), open);
                if (!starts_with(block, "/**"))
                    fail_msg("%s: comment above %s is not a /** doc comment", documented[h], copy);
                if (!strstr(block, "\\brief"))
                    fail_msg("%s: no \\brief above %s", documented[h], copy);
                /* typed CBOR getters share the \return of the group comment above them */
                if (ret && !strstr(block, "\\return") && !starts_with(copy, "FS38_NODISCARD fs38_err fs38_cbor_get_"))
                    fail_msg("%s: no \\return above %s", documented[h], copy);
            }
            if (!eol)
                break;
            prev_end = eol;
            pos += len + 1;
        }
    }
    if (decls < 130)
        fail_msg("only %u declarations found: the scanner is broken", decls);
}

/* Every header of include/fs38/ (but the umbrella) is in `documented`. */
static void every_header_is_checked(void **state)
{
    (void)state;
    DIR *d = opendir(INCLUDE_DIR);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n < 3 || strcmp(de->d_name + n - 2, ".h") != 0 || strcmp(de->d_name, "fs38.h") == 0)
            continue;
        bool listed = false;
        for (size_t h = 0; h < sizeof documented / sizeof documented[0]; h++)
            listed = listed || strcmp(documented[h], de->d_name) == 0;
        if (!listed)
            fail_msg("include/fs38/%s is not in the contract-comment check", de->d_name);
    }
    closedir(d);
}

/* A few things a user of the umbrella header relies on. */
static void umbrella_is_usable(void **state)
{
    (void)state;
    assert_string_equal(fs38_strerror(FS38_OK), "ok");
    assert_non_null(fs38_version());
    assert_string_equal(fs38_event_name(FS38_EV_LOG_LOST), "log-lost");
    assert_string_equal(fs38_lifecycle_name(FS38_LIFECYCLE_OPERATIONAL), "operational");
    uint8_t buf[4];
    fs38_cbor_enc e;
    size_t len = 0;
    fs38_cbor_enc_init(&e, buf, sizeof buf);
    fs38_cbor_put_uint(&e, 0x10000u); /* 5 bytes: does not fit */
    assert_int_equal(fs38_cbor_enc_finish(&e, &len), FS38_ERR_BUFFER);
    assert_int_equal(len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(umbrella_includes_every_header),
        cmocka_unit_test(functions_have_contracts),
        cmocka_unit_test(every_header_is_checked),
        cmocka_unit_test(umbrella_is_usable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
