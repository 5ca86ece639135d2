// Certificates for a local control plane: one CA that signs the API server's serving certificate
// and the admin client certificate (O=system:masters), plus the service-account token signing key.
// ECDSA P-256 throughout: fast to generate and accepted by every Kubernetes component.

import { KeyObject, webcrypto } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
// @peculiar/x509 needs the Reflect metadata polyfill loaded before it.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

export interface Pki {
  caCert: string;
  caCertFile: string;
  servingCertFile: string;
  servingKeyFile: string;
  adminCert: string;
  adminKey: string;
  serviceAccountKeyFile: string;
  serviceAccountPublicKeyFile: string;
}

async function keyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
}

function privatePem(key: CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }) as string;
}

function publicPem(key: CryptoKey): string {
  return KeyObject.from(key).export({ type: 'spki', format: 'pem' }) as string;
}

function validity() {
  const notBefore = new Date(Date.now() - 60 * 60 * 1000); // tolerate small clock differences
  const notAfter = new Date(Date.now() + 365 * 24 * 60 * 60 * 1000);
  return { notBefore, notAfter };
}

let serial = 1;
const nextSerial = () => (serial++).toString(16).padStart(2, '0');

export async function createPki(dir: string): Promise<Pki> {
  const caKeys = await keyPair();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: nextSerial(),
    name: 'CN=clawbot-local-ca',
    keys: caKeys,
    signingAlgorithm: algorithm,
    ...validity(),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign |
          x509.KeyUsageFlags.cRLSign |
          x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  const issue = async (subject: string, usage: string, sans?: x509.JsonGeneralNames) => {
    const keys = await keyPair();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: nextSerial(),
      subject,
      issuer: ca.subject,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: algorithm,
      ...validity(),
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([usage], false),
        await x509.AuthorityKeyIdentifierExtension.create(ca, false),
        ...(sans ? [new x509.SubjectAlternativeNameExtension(sans, false)] : []),
      ],
    });
    return { cert: cert.toString('pem'), key: privatePem(keys.privateKey) };
  };

  const serving = await issue('CN=kube-apiserver', x509.ExtendedKeyUsage.serverAuth, [
    { type: 'ip', value: '127.0.0.1' },
    { type: 'dns', value: 'localhost' },
  ]);
  const admin = await issue('CN=clawbot-admin, O=system:masters', x509.ExtendedKeyUsage.clientAuth);
  const saKeys = await keyPair();

  const files = {
    caCertFile: join(dir, 'ca.crt'),
    servingCertFile: join(dir, 'apiserver.crt'),
    servingKeyFile: join(dir, 'apiserver.key'),
    serviceAccountKeyFile: join(dir, 'sa.key'),
    serviceAccountPublicKeyFile: join(dir, 'sa.pub'),
  };
  const caCert = ca.toString('pem');
  await writeFile(files.caCertFile, caCert);
  await writeFile(files.servingCertFile, serving.cert);
  await writeFile(files.servingKeyFile, serving.key, { mode: 0o600 });
  await writeFile(files.serviceAccountKeyFile, privatePem(saKeys.privateKey), { mode: 0o600 });
  await writeFile(files.serviceAccountPublicKeyFile, publicPem(saKeys.publicKey));
  return { ...files, caCert, adminCert: admin.cert, adminKey: admin.key };
}
