"""The Apple and Alamofire API the `urlsession` output may name, as their documentation says.

No Swift toolchain and no network here: each entry keeps the documentation's own words,
its availability and where it was read, so a reviewer can check the generated Swift
against them. Apple's pages are those of developer.apple.com/documentation (read through
the documentation search corpus); Alamofire's text is its source,
Alamofire/Alamofire@3ad624167a00c0341d053caba1b8c966fa62a6e7:Source/Features/ServerTrustEvaluation.swift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

APPLE_DOCS = "https://developer.apple.com/documentation/"
ALAMOFIRE_SOURCE = (
    "Alamofire/Alamofire@3ad624167a00c0341d053caba1b8c966fa62a6e7:"
    "Source/Features/ServerTrustEvaluation.swift"
)


@dataclass(frozen=True)
class Symbol:
    framework: str
    ios: int  # introduced in iOS (major version)
    documentation: str  # the documentation's summary, verbatim
    source: str  # the page it was read from
    deprecated_ios: int | None = None  # deprecated in iOS (major version)
    declaration: str = ""  # the Swift declaration, verbatim, where it matters
    members: frozenset[str] = frozenset()  # member and argument names used with it
    # False: the summary as remembered from the page, not re-read this session (only old,
    # never-deprecated types; every symbol whose availability decides anything was read,
    # which a test checks).
    read: bool = True


def _apple(framework: str, ios: int, documentation: str, page: str, **more: Any) -> Symbol:
    return Symbol(framework, ios, documentation, APPLE_DOCS + page, **more)


APPLE: dict[str, Symbol] = {
    # -- Security ------------------------------------------------------------------------------
    "SecTrust": _apple("Security", 2, "An object used to evaluate trust.", "security/sectrust"),
    "SecCertificate": _apple(
        "Security",
        2,
        "An abstract Core Foundation-type object representing an X.509 certificate.",
        "security/seccertificate",
        read=False,
    ),
    "SecPolicyCreateSSL": _apple(
        "Security",
        2,
        "Returns a policy object for evaluating SSL certificate chains.",
        "security/secpolicycreatessl(_:_:)",
        declaration="func SecPolicyCreateSSL(_ server: Bool, _ hostname: CFString?) -> SecPolicy",
    ),
    "SecTrustSetPolicies": _apple(
        "Security",
        6,
        "Sets the policies to use in an evaluation.",
        "security/sectrustsetpolicies(_:_:)",
        declaration="func SecTrustSetPolicies(_ trust: SecTrust, _ policies: CFTypeRef) "
        "-> OSStatus",
    ),
    "SecTrustEvaluateWithError": _apple(
        "Security",
        12,
        "Evaluates trust for the specified certificate and policies.",
        "security/sectrustevaluatewitherror(_:_:)",
        declaration="func SecTrustEvaluateWithError(_ trust: SecTrust, _ error: "
        "UnsafeMutablePointer<CFError?>?) -> Bool",
    ),
    "SecTrustCopyCertificateChain": _apple(
        "Security",
        15,
        "(no summary on the page; the declaration only)",
        "security/sectrustcopycertificatechain(_:)",
        declaration="func SecTrustCopyCertificateChain(_ trust: SecTrust) -> CFArray?",
    ),
    "SecTrustGetCertificateCount": _apple(
        "Security",
        2,
        "Returns the number of certificates in an evaluated certificate chain.",
        "security/sectrustgetcertificatecount(_:)",
        declaration="func SecTrustGetCertificateCount(_ trust: SecTrust) -> CFIndex",
    ),
    "SecTrustGetCertificateAtIndex": _apple(
        "Security",
        2,
        "Returns a specific certificate from the certificate chain used to evaluate trust.",
        "security/sectrustgetcertificateatindex(_:_:)",
        deprecated_ios=15,
        declaration="func SecTrustGetCertificateAtIndex(_ trust: SecTrust, _ ix: CFIndex) "
        "-> SecCertificate?",
    ),
    "SecCertificateCopyKey": _apple(
        "Security",
        12,
        "Retrieves the public key for a given certificate.",
        "security/seccertificatecopykey(_:)",
        declaration="func SecCertificateCopyKey(_ certificate: SecCertificate) -> SecKey?",
    ),
    "SecKeyCopyAttributes": _apple(
        "Security",
        10,
        "Gets the attributes of a given key.",
        "security/seckeycopyattributes(_:)",
        declaration="func SecKeyCopyAttributes(_ key: SecKey) -> CFDictionary?",
    ),
    "SecKeyCopyExternalRepresentation": _apple(
        "Security",
        10,
        "Returns an external representation of the given key suitable for the key's type.",
        "security/seckeycopyexternalrepresentation(_:_:)",
        declaration="func SecKeyCopyExternalRepresentation(_ key: SecKey, _ error: "
        "UnsafeMutablePointer<Unmanaged<CFError>?>?) -> CFData?",
    ),
    "kSecAttrKeyType": _apple(
        "Security",
        2,
        "A key whose value indicates the item's algorithm. The corresponding "
        "value is of type CFNumber and indicates the algorithm associated with this "
        "cryptographic key. (TrustKit reads it as an NSString equal to kSecAttrKeyTypeRSA: "
        "datatheorem/TrustKit@04321fe20662ec3a0a26b02304f014caa89e7017:"
        "TrustKit/Pinning/TSKSPKIHashCache.m#L50; the file compares its text.)",
        "security/ksecattrkeytype",
    ),
    "kSecAttrKeySizeInBits": _apple(
        "Security",
        2,
        "A key whose value indicates the number of bits in a cryptographic key.",
        "security/ksecattrkeysizeinbits",
    ),
    "kSecAttrKeyTypeRSA": _apple("Security", 2, "RSA algorithm.", "security/ksecattrkeytypersa"),
    "kSecAttrKeyTypeECSECPrimeRandom": _apple(
        "Security", 10, "Elliptic curve algorithm.", "security/ksecattrkeytypeecsecprimerandom"
    ),
    "errSecSuccess": _apple("Security", 2, "No error.", "security/errsecsuccess"),
    "Security": _apple(
        "Security",
        2,
        "Secure the data your app manages, and control access to your app.",
        "security",
        read=False,
    ),
    # -- CryptoKit / CommonCrypto --------------------------------------------------------------
    "CryptoKit": _apple(
        "CryptoKit",
        13,
        "Apple CryptoKit: Perform cryptographic operations "
        "securely and efficiently. (The framework page gives no availability; "
        "its hash(data:) is iOS 13.0+.)",
        "cryptokit",
    ),
    "SHA256": _apple(
        "CryptoKit",
        13,
        "An implementation of Secure Hashing Algorithm 2 (SHA-2) hashing "
        "with a 256-bit digest. (Read on the SHA2_256 page, `typealias SHA2_256 = SHA256`; "
        'hash(data:): "Computes the digest of the bytes in the given data instance and '
        'returns the computed digest.", iOS 13.0+, cryptokit/hashfunction/hash(data:).)',
        "cryptokit/sha256",
        members=frozenset({"hash", "data"}),
    ),
    "CommonCrypto": Symbol(
        "CommonCrypto",
        5,
        "CC_SHA(3cc): Secure Hash Algorithms",
        "https://developer.apple.com/library/ios/documentation/System/Conceptual/"
        "ManPages_iPhoneOS/man3/CC_SHA256.3cc.html",
    ),
    "CC_SHA256": Symbol(
        "CommonCrypto",
        5,
        "CC_SHA(3cc): Secure Hash Algorithms",
        "https://developer.apple.com/library/ios/documentation/System/Conceptual/"
        "ManPages_iPhoneOS/man3/CC_SHA256.3cc.html",
        declaration="extern unsigned char * CC_SHA256(const void *data, CC_LONG len, "
        "unsigned char *md);",
    ),
    "CC_SHA256_DIGEST_LENGTH": Symbol(
        "CommonCrypto",
        5,
        "CC_SHA(3cc): Secure Hash Algorithms (<CommonCrypto/CommonDigest.h>)",
        "https://developer.apple.com/library/ios/documentation/System/Conceptual/"
        "ManPages_iPhoneOS/man3/CC_SHA256.3cc.html",
    ),
    "CC_LONG": Symbol(
        "CommonCrypto",
        5,
        "CC_SHA(3cc): Secure Hash Algorithms (<CommonCrypto/CommonDigest.h>)",
        "https://developer.apple.com/library/ios/documentation/System/Conceptual/"
        "ManPages_iPhoneOS/man3/CC_SHA256.3cc.html",
    ),
    # -- Foundation ----------------------------------------------------------------------------
    "Foundation": _apple(
        "Foundation",
        2,
        "Access essential data types, collections, and "
        "operating-system services to define the base layer of functionality "
        "for your app.",
        "foundation",
        read=False,
    ),
    "NSObject": _apple(
        "Objective-C Runtime",
        2,
        "The root class of most Objective-C class "
        "hierarchies, from which subclasses inherit a basic interface to the "
        "runtime system and the ability to behave as Objective-C objects.",
        "objectivec/nsobject-swift.class",
        read=False,
    ),
    "URLSessionDelegate": _apple(
        "Foundation",
        7,
        "A protocol that defines methods that URL session instances call on "
        "their delegates to handle session-level events, like session life cycle changes.",
        "foundation/urlsessiondelegate",
        members=frozenset({"urlSession", "didReceive", "completionHandler"}),
        declaration="optional func urlSession(_ session: URLSession, didReceive challenge: "
        "URLAuthenticationChallenge, completionHandler: @escaping @Sendable "
        "(URLSession.AuthChallengeDisposition, URLCredential?) -> Void)",
    ),
    "URLSession": _apple(
        "Foundation",
        7,
        "An object that coordinates a group of related, network data transfer tasks.",
        "foundation/urlsession",
        members=frozenset(
            {
                "AuthChallengeDisposition",
                "performDefaultHandling",
                "cancelAuthenticationChallenge",
                "configuration",
                "ephemeral",
                "dataTask",
                "with",
                "resume",
            }
        ),
        read=False,
    ),
    "URLAuthenticationChallenge": _apple(
        "Foundation",
        2,
        "A challenge from a server requiring authentication from the client.",
        "foundation/urlauthenticationchallenge",
        members=frozenset({"protectionSpace", "authenticationMethod", "serverTrust", "host"}),
        read=False,
    ),
    "URLCredential": _apple(
        "Foundation",
        2,
        "An authentication credential consisting of information specific to "
        "the type of credential and the type of persistent storage to use, if any.",
        "foundation/urlcredential",
        read=False,
    ),
    "NSURLAuthenticationMethodServerTrust": _apple(
        "Foundation",
        3,
        "Perform server trust authentication (certificate validation) for this protection space.",
        "foundation/nsurlauthenticationmethodservertrust",
    ),
    "URL": _apple(
        "Foundation",
        2,
        "A value that identifies the location of a resource, such "
        "as an item on a remote server or the path to a local file.",
        "foundation/url",
        members=frozenset({"string"}),
        read=False,
    ),
    "URLRequest": _apple(
        "Foundation",
        2,
        "A URL load request that is independent of protocol or URL scheme.",
        "foundation/urlrequest",
        members=frozenset({"url", "httpMethod", "setValue", "forHTTPHeaderField", "httpBody"}),
        read=False,
    ),
    "JSONSerialization": _apple(
        "Foundation",
        5,
        "An object that converts between JSON and the equivalent Foundation objects.",
        "foundation/jsonserialization",
        members=frozenset({"data", "withJSONObject", "options", "sortedKeys"}),
        read=False,
    ),
    "Bundle": _apple(
        "Foundation",
        2,
        "A representation of the code and resources stored in a bundle directory on disk.",
        "foundation/bundle",
        members=frozenset({"main", "infoDictionary", "bundleIdentifier"}),
        read=False,
    ),
    "ISO8601DateFormatter": _apple(
        "Foundation",
        10,
        "A formatter that converts between dates and their ISO 8601 string representations.",
        "foundation/iso8601dateformatter",
        members=frozenset({"string", "from"}),
        read=False,
    ),
    "NSLock": _apple(
        "Foundation",
        2,
        "An object that coordinates the operation of multiple threads of "
        "execution within the same application.",
        "foundation/nslock",
        members=frozenset({"lock", "unlock"}),
        read=False,
    ),
    "Data": _apple(
        "Foundation",
        8,
        "A byte buffer in memory.",
        "foundation/data",
        members=frozenset({"base64EncodedString", "withUnsafeBytes", "baseAddress", "count"}),
        read=False,
    ),
    "Date": _apple(
        "Foundation",
        8,
        "A specific point in time, independent of any calendar or time zone.",
        "foundation/date",
        members=frozenset({"timeIntervalSince1970", "timeIntervalSince"}),
        read=False,
    ),
    "CFString": _apple(
        "Core Foundation",
        2,
        "A reference to a CFString object.",
        "corefoundation/cfstring",
        read=False,
    ),
}

# Alamofire 5's API the generated file names, with its source text.
ALAMOFIRE: dict[str, Symbol] = {
    "Alamofire": Symbol("Alamofire", 10, "Elegant HTTP Networking in Swift", ALAMOFIRE_SOURCE),
    "ServerTrustEvaluating": Symbol(
        "Alamofire",
        10,
        "A protocol describing the API used to evaluate server trusts.",
        ALAMOFIRE_SOURCE,
        declaration="func evaluate(_ trust: SecTrust, forHost host: String) throws",
        members=frozenset({"evaluate", "forHost"}),
    ),
    "ServerTrustManager": Symbol(
        "Alamofire",
        10,
        "Responsible for managing the mapping of `ServerTrustEvaluating` values to given hosts.",
        ALAMOFIRE_SOURCE,
        declaration="open func serverTrustEvaluator(forHost host: String) throws -> "
        "(any ServerTrustEvaluating)?",
        members=frozenset(
            {"serverTrustEvaluator", "forHost", "allHostsMustBeEvaluated", "evaluators"}
        ),
    ),
    "DefaultTrustEvaluator": Symbol(
        "Alamofire",
        10,
        "An evaluator which uses the default server trust evaluation while "
        "allowing you to control whether to validate the host provided by the challenge.",
        ALAMOFIRE_SOURCE,
        members=frozenset({"evaluate", "forHost"}),
    ),
    "AFError": Symbol(
        "Alamofire",
        10,
        "`AFError` is the error type returned by Alamofire.",
        "Alamofire/Alamofire@3ad624167a00c0341d053caba1b8c966fa62a6e7:Source/Core/AFError.swift",
        members=frozenset(
            {"serverTrustEvaluationFailed", "reason", "customEvaluationFailed", "error"}
        ),
    ),
}

# The Swift standard library and language names the file uses (not framework API).
SWIFT: frozenset[str] = frozenset(
    {
        "String",
        "Int",
        "Bool",
        "UInt8",
        "Substring",
        "Any",
        "Void",
        "Error",
        "Sendable",
        "flatMap",
        "Equatable",
        "Dictionary",
        "Self",
        "uniqueKeysWithValues",
        "map",
        "compactMap",
        "contains",
        "where",
        "first",
        "hasSuffix",
        "lowercased",
        "dropLast",
        "firstIndex",
        "of",
        "index",
        "after",
        "isEmpty",
        "count",
        "joined",
        "separator",
        "repeating",
        "canImport",
        "iOS",
        "macOS",
        "tvOS",
        "watchOS",
        "available",
        "unchecked",
        "escaping",
        "override",
        "init",
        "super",
        "defer",
    }
)
