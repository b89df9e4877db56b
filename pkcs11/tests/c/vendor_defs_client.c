/*
 * A C application of cloudhsm_pkcs11_vendor_defs.h, built with -Wall -Werror by
 * pkcs11/tests/vendor_header.rs and tests/install.rs.
 *
 * usage: vendor_defs_client load|version MODULE
 *   Prints NAME=VALUE for every constant of the header (as the C compiler sees it), checks
 *   the structures, then dlopen()s MODULE. "load" stops there; "version" also calls
 *   C_GetFunctionList and checks the version is 2.40.
 * exit: 0 ok; 1 usage; 2 dlopen failed; 3 no C_GetFunctionList; 4 a structure is wrong;
 *       5 C_GetFunctionList failed; 6 wrong version.
 */
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "pkcs11.h"
#include "cloudhsm_pkcs11_vendor_defs.h"

#define SHOW(name) printf("%s=0x%lx\n", #name, (unsigned long)(name))

static void show_constants(void) {
    SHOW(CKM_CLOUDHSM_AES_GCM);
    SHOW(CKM_CLOUDHSM_AES_KEY_WRAP_NO_PAD);
    SHOW(CKM_CLOUDHSM_AES_KEY_WRAP_PKCS5_PAD);
    SHOW(CKM_CLOUDHSM_AES_KEY_WRAP_ZERO_PAD);
    SHOW(CKM_CLOUDHSM_SP800_108_COUNTER_KDF);
    SHOW(CKM_SP800_108_COUNTER_KDF);
    SHOW(CKM_DES3_NIST_WRAP);
    SHOW(CKM_CLOUDHSM_EDDSA);
    SHOW(CKM_CLOUDHSM_ML_DSA_KEY_PAIR_GEN);
    SHOW(CKM_CLOUDHSM_ML_DSA);
    SHOW(CKM_CLOUDHSM_EXT_MU_ML_DSA);
    SHOW(CKD_CLOUDHSM_X963_SHA1_KDF);
    SHOW(CKD_CLOUDHSM_X963_SHA224_KDF);
    SHOW(CKD_CLOUDHSM_X963_SHA256_KDF);
    SHOW(CKD_CLOUDHSM_X963_SHA384_KDF);
    SHOW(CKD_CLOUDHSM_X963_SHA512_KDF);
    SHOW(CKK_CLOUDHSM_ML_DSA);
    SHOW(CKA_CLOUDHSM_PARAMETER_SET);
    SHOW(CKP_CLOUDHSM_ML_DSA_44);
    SHOW(CKP_CLOUDHSM_ML_DSA_65);
    SHOW(CKP_CLOUDHSM_ML_DSA_87);
    SHOW(CK_SP800_108_ITERATION_VARIABLE);
    SHOW(CK_SP800_108_DKM_LENGTH);
    SHOW(CK_SP800_108_BYTE_ARRAY);
    SHOW(SP800_108_COUNTER_FORMAT);
    SHOW(SP800_108_PRF_LABEL);
    SHOW(SP800_108_PRF_CONTEXT);
    SHOW(SP800_108_DKM_FORMAT);
    SHOW(SP800_108_BYTE_ARRAY);
    SHOW(SP800_108_DKM_LENGTH_SUM_OF_KEYS);
    SHOW(SP800_108_DKM_LENGTH_SUM_OF_SEGMENTS);
}

/* The parameters of the two SP 800-108 layouts and an ML-DSA template, as an application
 * builds them; the layouts are CloudHSM's (3 fields, no bLittleEndian). */
static int check_structures(void) {
    CK_SP800_108_COUNTER_FORMAT counter = {32};
    CK_SP800_108_DKM_LENGTH_FORMAT dkm = {SP800_108_DKM_LENGTH_SUM_OF_KEYS, 32};
    CK_SP800_108_COUNTER_FORMAT_PTR counter_ptr = &counter;
    CK_SP800_108_DKM_LENGTH_FORMAT_PTR dkm_ptr = &dkm;
    CK_BYTE label[] = "label";
    CK_PRF_DATA_PARAM implicit[] = {
        {SP800_108_COUNTER_FORMAT, counter_ptr, sizeof(counter)},
        {SP800_108_DKM_FORMAT, dkm_ptr, sizeof(dkm)},
        {SP800_108_PRF_LABEL, label, sizeof(label) - 1},
        {SP800_108_PRF_CONTEXT, NULL, 0},
    };
    CK_PRF_DATA_PARAM explicit_[] = {
        {CK_SP800_108_BYTE_ARRAY, label, sizeof(label) - 1},
        {CK_SP800_108_ITERATION_VARIABLE, &counter, sizeof(counter)},
        {CK_SP800_108_DKM_LENGTH, &dkm, sizeof(dkm)},
    };
    CK_PRF_DATA_PARAM_PTR first = implicit;
    CK_SP800_108_KDF_PARAMS params = {CKM_SHA256_HMAC, 4, first};
    CK_SP800_108_KDF_PARAMS_PTR params_ptr = &params;
    CK_PRF_TYPE prf = CKM_AES_CMAC;
    CK_PRF_DATA_TYPE type = SP800_108_BYTE_ARRAY;
    CK_MECHANISM derive = {CKM_CLOUDHSM_SP800_108_COUNTER_KDF, params_ptr, sizeof(params)};
    CK_CLOUDHSM_ML_DSA_PARAMETER_SET_TYPE set = CKP_CLOUDHSM_ML_DSA_65;
    CK_KEY_TYPE key_type = CKK_CLOUDHSM_ML_DSA;
    CK_ATTRIBUTE template_[] = {
        {CKA_KEY_TYPE, &key_type, sizeof(key_type)},
        {CKA_CLOUDHSM_PARAMETER_SET, &set, sizeof(set)},
    };
    CK_ECDH1_DERIVE_PARAMS ecdh = {CKD_CLOUDHSM_X963_SHA256_KDF, 0, NULL, 0, NULL};

    params.ulNumberOfDataParams = sizeof(explicit_) / sizeof(explicit_[0]);
    params.pDataParams = explicit_;
    params.prftype = prf;
    explicit_[0].type = type;
    if (derive.pParameter != &params || template_[1].type != CKA_CLOUDHSM_PARAMETER_SET ||
        ecdh.kdf != CKD_CLOUDHSM_X963_SHA256_KDF || implicit[1].pValue != &dkm) {
        return 1;
    }
    /* Natural alignment: 3 words, 3 words, 1 word, 2 words (24, 24, 8, 16 bytes on LP64). */
    if (sizeof(CK_SP800_108_KDF_PARAMS) != 3 * sizeof(CK_ULONG) ||
        sizeof(CK_PRF_DATA_PARAM) != 3 * sizeof(CK_ULONG) ||
        sizeof(CK_SP800_108_COUNTER_FORMAT) != sizeof(CK_ULONG) ||
        sizeof(CK_SP800_108_DKM_LENGTH_FORMAT) != 2 * sizeof(CK_ULONG) ||
        offsetof(CK_SP800_108_KDF_PARAMS, pDataParams) != 2 * sizeof(CK_ULONG)) {
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    void *module;
    CK_C_GetFunctionList get_function_list;
    CK_FUNCTION_LIST_PTR functions = NULL;
    CK_RV rv;

    if (argc != 3 || (strcmp(argv[1], "load") != 0 && strcmp(argv[1], "version") != 0)) {
        fprintf(stderr, "usage: %s load|version MODULE\n", argv[0]);
        return 1;
    }
    show_constants();
    if (check_structures() != 0) {
        fprintf(stderr, "a vendor structure has the wrong layout\n");
        return 4;
    }
    module = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
    if (module == NULL) {
        fprintf(stderr, "dlopen %s: %s\n", argv[2], dlerror());
        return 2;
    }
    printf("loaded %s\n", argv[2]);
    if (strcmp(argv[1], "load") == 0) {
        return 0;
    }
    /* The POSIX way to take a function pointer from dlsym. */
    *(void **)(&get_function_list) = dlsym(module, "C_GetFunctionList");
    if (get_function_list == NULL) {
        fprintf(stderr, "%s exports no C_GetFunctionList\n", argv[2]);
        return 3;
    }
    rv = get_function_list(&functions);
    if (rv != CKR_OK || functions == NULL) {
        fprintf(stderr, "C_GetFunctionList: 0x%lx\n", (unsigned long)rv);
        return 5;
    }
    printf("version=%u.%u\n", functions->version.major, functions->version.minor);
    return functions->version.major == 2 && functions->version.minor == 40 ? 0 : 6;
}
