/**
 * Crypto-shredding: per-request data keys ({@link dev.loku.runtime.crypto.DataKeyStore}, file-backed by default) and
 * the AES-GCM sealing of a request's content ({@link dev.loku.runtime.crypto.ContentSeal}).
 */
package dev.loku.runtime.crypto;
