//! `libcloudhsm_pkcs11.so`: the PKCS#11 front end of the simulated cluster.
