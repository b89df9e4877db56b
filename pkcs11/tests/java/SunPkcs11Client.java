// A Java application on the module through the JDK's own PKCS#11 provider (SunPKCS11):
// log in as a crypto user, generate EC, RSA and AES keys in the HSM, sign and encrypt with
// them, and check the signatures with the JDK's software provider. Run by tests/java.rs.
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.Provider;
import java.security.Security;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;

public class SunPkcs11Client {
    public static void main(String[] args) throws Exception {
        Provider hsm = Security.getProvider("SunPKCS11").configure(args[0]);
        Security.addProvider(hsm);
        KeyStore.getInstance("PKCS11", hsm).load(null, args[1].toCharArray());
        byte[] data = "signed in the HSM".getBytes("UTF-8");

        KeyPairGenerator ec = KeyPairGenerator.getInstance("EC", hsm);
        ec.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair ecPair = ec.generateKeyPair();
        System.out.println("EC: " + signAndCheck("SHA256withECDSA", ecPair, hsm, data));

        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA", hsm);
        rsa.initialize(2048);
        KeyPair rsaPair = rsa.generateKeyPair();
        System.out.println("RSA: " + signAndCheck("SHA256withRSA", rsaPair, hsm, data));

        KeyGenerator aes = KeyGenerator.getInstance("AES", hsm);
        aes.init(256);
        SecretKey key = aes.generateKey();
        Cipher cipher = Cipher.getInstance("AES/CBC/PKCS5Padding", hsm);
        cipher.init(Cipher.ENCRYPT_MODE, key);
        byte[] ciphertext = cipher.doFinal(data);
        cipher.init(Cipher.DECRYPT_MODE, key, cipher.getParameters());
        System.out.println("AES: " + new String(cipher.doFinal(ciphertext), "UTF-8"));
    }

    static boolean signAndCheck(String algorithm, KeyPair pair, Provider hsm, byte[] data)
            throws Exception {
        Signature signer = Signature.getInstance(algorithm, hsm);
        signer.initSign(pair.getPrivate());
        signer.update(data);
        byte[] signature = signer.sign();
        // The JDK's software provider, not the HSM, checks it.
        Signature verifier = Signature.getInstance(algorithm);
        verifier.initVerify(pair.getPublic());
        verifier.update(data);
        return verifier.verify(signature);
    }
}
