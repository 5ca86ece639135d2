// Certificates for a local control plane: one CA that signs the API server's serving certificate
// and the admin client certificate (O=system:masters), plus the service-account token signing key.
// A cluster with a node gets more, as kubeadm lays them out: client certificates for the kubelet
// (system:node:<name>), kube-proxy and kube-scheduler, the kubelet's serving certificate, the API
// server's client certificate for kubelets, and a front-proxy CA for aggregated APIs
// (metrics-server). ECDSA P-256 throughout: fast to generate and accepted by every component.

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

export interface CertFiles {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

export interface NodePki {
  kubeletClient: CertFiles;
  kubeletServing: CertFiles;
  kubeProxyClient: CertFiles;
  schedulerClient: CertFiles;
  /** The API server's identity towards kubelets (logs, exec, port-forward, metrics). */
  apiserverKubeletClient: CertFiles;
  frontProxyCaFile: string;
  frontProxyClient: CertFiles;
}

export interface PkiOptions {
  /** Addresses the API server is reached at besides loopback (the node's gateway, its Service IP). */
  apiServerIps?: string[];
  node?: { name: string; ip: string };
}

export interface Pki {
  caCert: string;
  caCertFile: string;
  /** The CA's key, for kube-controller-manager's certificate signing. */
  caKeyFile: string;
  servingCertFile: string;
  servingKeyFile: string;
  adminCert: string;
  adminKey: string;
  serviceAccountKeyFile: string;
  serviceAccountPublicKeyFile: string;
  node?: NodePki;
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

interface Authority {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

async function createAuthority(name: string): Promise<Authority> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: nextSerial(),
    name: `CN=${name}`,
    keys,
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
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

async function issue(
  ca: Authority,
  subject: string,
  usage: string,
  sans?: x509.JsonGeneralNames,
): Promise<{ cert: string; key: string }> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: nextSerial(),
    subject,
    issuer: ca.cert.subject,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: algorithm,
    ...validity(),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([usage], false),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert, false),
      ...(sans ? [new x509.SubjectAlternativeNameExtension(sans, false)] : []),
    ],
  });
  return { cert: cert.toString('pem'), key: privatePem(keys.privateKey) };
}

async function issueTo(
  dir: string,
  name: string,
  ca: Authority,
  subject: string,
  usage: string,
  sans?: x509.JsonGeneralNames,
): Promise<CertFiles> {
  const issued = await issue(ca, subject, usage, sans);
  const files = { certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) };
  await writeFile(files.certFile, issued.cert);
  await writeFile(files.keyFile, issued.key, { mode: 0o600 });
  return { ...issued, ...files };
}

const client = x509.ExtendedKeyUsage.clientAuth;
const server = x509.ExtendedKeyUsage.serverAuth;

export async function createPki(dir: string, options: PkiOptions = {}): Promise<Pki> {
  const ca = await createAuthority('clawbot-local-ca');
  const ips = ['127.0.0.1', ...(options.apiServerIps ?? [])];
  // localhost, and the names pods reach it by through the `kubernetes` Service.
  const names = ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'];
  const serving = await issue(ca, 'CN=kube-apiserver', server, [
    ...ips.map((value) => ({ type: 'ip' as const, value })),
    ...[...names, 'kubernetes.default.svc.cluster.local'].map((value) => ({
      type: 'dns' as const,
      value,
    })),
  ]);
  const admin = await issue(ca, 'CN=clawbot-admin, O=system:masters', client);
  const saKeys = await keyPair();

  const files = {
    caCertFile: join(dir, 'ca.crt'),
    caKeyFile: join(dir, 'ca.key'),
    servingCertFile: join(dir, 'apiserver.crt'),
    servingKeyFile: join(dir, 'apiserver.key'),
    serviceAccountKeyFile: join(dir, 'sa.key'),
    serviceAccountPublicKeyFile: join(dir, 'sa.pub'),
  };
  const caCert = ca.cert.toString('pem');
  await writeFile(files.caCertFile, caCert);
  await writeFile(files.caKeyFile, privatePem(ca.keys.privateKey), { mode: 0o600 });
  await writeFile(files.servingCertFile, serving.cert);
  await writeFile(files.servingKeyFile, serving.key, { mode: 0o600 });
  await writeFile(files.serviceAccountKeyFile, privatePem(saKeys.privateKey), { mode: 0o600 });
  await writeFile(files.serviceAccountPublicKeyFile, publicPem(saKeys.publicKey));
  const node = options.node ? await nodePki(dir, ca, options.node) : undefined;
  return { ...files, caCert, adminCert: admin.cert, adminKey: admin.key, node };
}

async function nodePki(
  dir: string,
  ca: Authority,
  node: { name: string; ip: string },
): Promise<NodePki> {
  const frontProxyCa = await createAuthority('clawbot-front-proxy-ca');
  const frontProxyCaFile = join(dir, 'front-proxy-ca.crt');
  await writeFile(frontProxyCaFile, frontProxyCa.cert.toString('pem'));
  return {
    kubeletClient: await issueTo(
      dir,
      'kubelet-client',
      ca,
      `CN=system:node:${node.name}, O=system:nodes`,
      client,
    ),
    kubeletServing: await issueTo(dir, 'kubelet-serving', ca, `CN=${node.name}`, server, [
      { type: 'ip', value: node.ip },
      { type: 'dns', value: node.name },
    ]),
    kubeProxyClient: await issueTo(dir, 'kube-proxy', ca, 'CN=system:kube-proxy', client),
    schedulerClient: await issueTo(dir, 'kube-scheduler', ca, 'CN=system:kube-scheduler', client),
    apiserverKubeletClient: await issueTo(
      dir,
      'apiserver-kubelet-client',
      ca,
      'CN=kube-apiserver-kubelet-client, O=system:masters',
      client,
    ),
    frontProxyCaFile,
    frontProxyClient: await issueTo(
      dir,
      'front-proxy-client',
      frontProxyCa,
      'CN=front-proxy-client',
      client,
    ),
  };
}
