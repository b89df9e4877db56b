/*
 * cloudhsm_pkcs11_vendor_defs.h: the AWS CloudHSM vendor constants and structures of
 * PKCS #11, for applications built against cloudhsm-sim's libcloudhsm_pkcs11.so.
 *
 * Written for cloudhsm-sim (MIT licence); this is not AWS's file. Names are the ones AWS's
 * documentation and samples use. Two kinds of value:
 *   - verified:  the value AWS's own published header carried (same binary interface);
 *   - emulator-assigned, not AWS's: no public copy of AWS's value exists. These names compile,
 *     and cloudhsm-sim's module accepts them, but a program built against this header passes
 *     numbers the real library may not know. Rebuild against AWS's header for the real thing.
 * The module's copy of every value is pkcs11/src/vendor.rs; a test checks the two agree.
 *
 * Include a PKCS #11 v2.40 pkcs11.h first (or have "pkcs11.h" on the include path).
 */

#ifndef CLOUDHSM_PKCS11_VENDOR_DEFS_H
#define CLOUDHSM_PKCS11_VENDOR_DEFS_H

#ifndef CKM_VENDOR_DEFINED
#include "pkcs11.h"
#endif

#if defined(CK_SP800_108_ITERATION_VARIABLE)
#error "cloudhsm_pkcs11_vendor_defs.h: the pkcs11.h included first is PKCS #11 3.x, whose SP 800-108 names and structures differ from CloudHSM's; include a v2.40 pkcs11.h"
#endif

/* ---- Mechanisms (verified) ------------------------------------------------------------ */

/* AES-GCM where the HSM makes the IV and writes it into the caller's CK_GCM_PARAMS.
 * = CKM_VENDOR_DEFINED | CKM_AES_GCM */
#define CKM_CLOUDHSM_AES_GCM                    0x80001087UL
/* AES key wrap, RFC 3394 without padding. = CKM_VENDOR_DEFINED | CKM_AES_KEY_WRAP */
#define CKM_CLOUDHSM_AES_KEY_WRAP_NO_PAD        0x80002109UL
/* AES key wrap with PKCS #5 padding. = CKM_VENDOR_DEFINED | CKM_AES_KEY_WRAP_PAD */
#define CKM_CLOUDHSM_AES_KEY_WRAP_PKCS5_PAD     0x8000210AUL
/* AES key wrap with zero padding. = CKM_VENDOR_DEFINED | 0x216F */
#define CKM_CLOUDHSM_AES_KEY_WRAP_ZERO_PAD      0x8000216FUL
/* NIST SP 800-108 counter-mode KDF, parameters CK_SP800_108_KDF_PARAMS below.
 * = CKM_VENDOR_DEFINED | 0x1 */
#define CKM_CLOUDHSM_SP800_108_COUNTER_KDF      0x80000001UL
/* The older name of the same mechanism (deprecated by AWS in favour of the one above). */
#ifndef CKM_SP800_108_COUNTER_KDF
#define CKM_SP800_108_COUNTER_KDF               0x80000001UL
#endif
/* Triple-DES NIST key wrap of older SDKs (not listed for Client SDK 5).
 * = CKM_VENDOR_DEFINED | 0x8000 */
#define CKM_DES3_NIST_WRAP                      0x80008000UL

/* ---- Mechanisms (emulator-assigned, not AWS's) ---------------------------------------- */

/* EdDSA (Ed25519 and Ed25519ph). emulator-assigned, not AWS's: CKM_VENDOR_DEFINED | CKM_EDDSA */
#define CKM_CLOUDHSM_EDDSA                      0x80001057UL
/* ML-DSA key pair generation. emulator-assigned, not AWS's: vendor | PKCS #11 3.2's 0x1C */
#define CKM_CLOUDHSM_ML_DSA_KEY_PAIR_GEN        0x8000001CUL
/* ML-DSA signature of the message. emulator-assigned, not AWS's: vendor | 3.2's 0x1D */
#define CKM_CLOUDHSM_ML_DSA                     0x8000001DUL
/* ML-DSA signature of a caller-computed mu (64 bytes). emulator-assigned, not AWS's */
#define CKM_CLOUDHSM_EXT_MU_ML_DSA              0x8000001EUL

/* ---- ECDH key derivation functions (emulator-assigned, not AWS's) --------------------- */

/* ANSI X9.63 KDFs for CKM_ECDH1_DERIVE (CK_ECDH1_DERIVE_PARAMS.kdf).
 * emulator-assigned, not AWS's. The module also accepts the standard CKD_SHA*_KDF. */
#define CKD_CLOUDHSM_X963_SHA1_KDF              0x80000001UL
#define CKD_CLOUDHSM_X963_SHA224_KDF            0x80000002UL
#define CKD_CLOUDHSM_X963_SHA256_KDF            0x80000003UL
#define CKD_CLOUDHSM_X963_SHA384_KDF            0x80000004UL
#define CKD_CLOUDHSM_X963_SHA512_KDF            0x80000005UL

/* ---- ML-DSA key type, attribute and parameter sets (emulator-assigned, not AWS's) ----- */

/* The key type of ML-DSA keys. emulator-assigned, not AWS's: vendor | 3.2's CKK_ML_DSA */
#define CKK_CLOUDHSM_ML_DSA                     0x8000004AUL
/* The parameter set of an ML-DSA key. emulator-assigned, not AWS's: vendor | 3.2's 0x61D */
#define CKA_CLOUDHSM_PARAMETER_SET              0x8000061DUL

/* Values of CKA_CLOUDHSM_PARAMETER_SET. emulator-assigned, not AWS's (PKCS #11 3.2's). */
typedef CK_ULONG CK_CLOUDHSM_ML_DSA_PARAMETER_SET_TYPE;
#define CKP_CLOUDHSM_ML_DSA_44                  0x1UL
#define CKP_CLOUDHSM_ML_DSA_65                  0x2UL
#define CKP_CLOUDHSM_ML_DSA_87                  0x3UL

/* ---- SP 800-108 counter KDF parameters (verified) ------------------------------------- */

/* CK_PRF_DATA_PARAM.type: the explicit layout, where the order of the entries is the order
 * of the KDF's fixed input. (PKCS #11 3.0 uses other numbers for these names.) */
#define CK_SP800_108_ITERATION_VARIABLE         0x1UL
#define CK_SP800_108_DKM_LENGTH                 0x2UL
#define CK_SP800_108_BYTE_ARRAY                 0x3UL

/* CK_PRF_DATA_PARAM.type: the implicit layout, Counter || Label || 0x00 || Context || L. */
#define SP800_108_COUNTER_FORMAT                0x4UL
#define SP800_108_PRF_LABEL                     0x5UL
#define SP800_108_PRF_CONTEXT                   0x6UL
#define SP800_108_DKM_FORMAT                    0x7UL
#define SP800_108_BYTE_ARRAY                    0x8UL

/* CK_SP800_108_DKM_LENGTH_FORMAT.dkmLengthMethod */
#define SP800_108_DKM_LENGTH_SUM_OF_KEYS        0x1UL
#define SP800_108_DKM_LENGTH_SUM_OF_SEGMENTS    0x2UL

#if defined(_WIN32)
#pragma pack(push, cloudhsm_vendor_defs, 1)
#endif

/* The PRF: CKM_SHA_1_HMAC, CKM_SHA224_HMAC ... CKM_SHA512_HMAC, or CKM_AES_CMAC. */
typedef CK_MECHANISM_TYPE CK_PRF_TYPE;
typedef CK_ULONG CK_PRF_DATA_TYPE;

/* One input of the KDF: a type above and its value (a byte string, or one of the format
 * structures below). */
typedef struct CK_PRF_DATA_PARAM {
    CK_PRF_DATA_TYPE type;
    CK_VOID_PTR pValue;
    CK_ULONG ulValueLen;
} CK_PRF_DATA_PARAM;
typedef CK_PRF_DATA_PARAM *CK_PRF_DATA_PARAM_PTR;

/* The mechanism parameter of CKM_CLOUDHSM_SP800_108_COUNTER_KDF. */
typedef struct CK_SP800_108_KDF_PARAMS {
    CK_PRF_TYPE prftype;
    CK_ULONG ulNumberOfDataParams;
    CK_PRF_DATA_PARAM_PTR pDataParams;
} CK_SP800_108_KDF_PARAMS;
typedef CK_SP800_108_KDF_PARAMS *CK_SP800_108_KDF_PARAMS_PTR;

/* The counter's width in bits (16 or 32), big-endian. */
typedef struct CK_SP800_108_COUNTER_FORMAT {
    CK_ULONG ulWidthInBits;
} CK_SP800_108_COUNTER_FORMAT;
typedef CK_SP800_108_COUNTER_FORMAT *CK_SP800_108_COUNTER_FORMAT_PTR;

/* How L, the length of the derived key material in bits, is encoded. */
typedef struct CK_SP800_108_DKM_LENGTH_FORMAT {
    CK_ULONG dkmLengthMethod;
    CK_ULONG ulWidthInBits;
} CK_SP800_108_DKM_LENGTH_FORMAT;
typedef CK_SP800_108_DKM_LENGTH_FORMAT *CK_SP800_108_DKM_LENGTH_FORMAT_PTR;

#if defined(_WIN32)
#pragma pack(pop, cloudhsm_vendor_defs)
#endif

#endif /* CLOUDHSM_PKCS11_VENDOR_DEFS_H */
