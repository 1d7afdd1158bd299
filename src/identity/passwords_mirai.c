/* SPDX-License-Identifier: Apache-2.0 AND MIT */
/*
 * passwords_mirai.c — the passwords of the Mirai botnet's telnet credential list, embedded for
 * the password policy (control 1, fs38/auth.h): a new password equal to one of them (ignoring
 * case) is refused.
 *
 * Source and attribution: the 62 user/password pairs (61 distinct) of the leaked Mirai bot,
 * mirai/bot/scanner.c lines 124-185 (add_auth_entry calls) in jgamblin/Mirai-Source-Code,
 * commit 4889a6f797237f1d4210839bcefd9f89c57c0770, decoded from the obfuscated bytes (each
 * byte XOR 0x22, the table key 0xdeadbeef of mirai/bot/table.c), as published in the project's
 * audit vectors (shared/vectors/audit/credentials/mirai_scanner_c_decoded.tsv). These pairs are
 * facts about a malware sample, reproduced here with attribution; no code of that repository
 * (GPL-3.0) is copied. Two source comments differ from the decoded bytes: line 150 is
 * Administrator/meinsm and line 181 is admin/4321. The empty passwords (root and admin with no
 * password) need no entry: the length rule refuses them.
 *
 * Users of the list: 666666, 888888, Administrator, admin, admin1, administrator, guest,
 * mother, root, service, supervisor, support, tech, ubnt, user.
 * Generated once from the TSV (column 3, lower-cased, first occurrence kept); edit by hand only
 * together with that list.
 */
#include "fs38/auth.h"

/* 43 decoded entries, then the variants of the SecLists transcription of the same list
 * (danielmiessler/SecLists Passwords/Malware/mirai-botnet.txt, MIT): lower case, each followed
 * by a NUL. */
const char fs38_passwords_mirai[] =
    "xc3511\0" "vizxv\0" "admin\0" "888888\0" "xmhdipc\0" "default\0" "juantech\0" "123456\0"
    "54321\0" "support\0" "password\0" "root\0" "12345\0" "user\0" "pass\0" "admin1234\0" "1111\0"
    "smcadmin\0" "666666\0" "1234\0" "klv123\0" "meinsm\0" "service\0" "supervisor\0" "guest\0"
    "ubnt\0" "klv1234\0" "zte521\0" "hi3518\0" "jvbzd\0" "anko\0" "zlxx.\0" "7ujmko0vizxv\0"
    "7ujmko0admin\0" "system\0" "ikwb\0" "dreambox\0" "realtek\0" "00000000\0" "1111111\0" "4321\0"
    "tech\0" "fucker\0"
    /* SecLists variants */
    "jauntech\0" "20xbully\0" "000000\0";
/* without the final NUL */
const size_t fs38_passwords_mirai_len = sizeof fs38_passwords_mirai - 1u;
