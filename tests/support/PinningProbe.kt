// A test client for generated OkHttp pins (tests/render/test_render_okhttp.py), compiled once per
// test session together with the generated files.
//
//   java pingen.probe.PinningProbeKt ROOTS.pem  < requests
//
// ROOTS.pem holds the CA certificates the client trusts (its X509TrustManager is built
// from a KeyStore holding exactly those). Each stdin line is a tab-separated request:
//   ID  GET   PINNER_CLASS  HOST  PORT   -> ID  OK  <code> | ID  PINNING_FAILURE  <message>
//                                           | ID  ERROR  <exception>: <message>
//   ID  PINS  PINNER_CLASS                -> ID  PIN  <pattern>  <sha256/…> per pin, then ID  END
// PINNER_CLASS is a generated Kotlin object (its `certificatePinner`), or `-` for no pins.
// Every host name resolves to 127.0.0.1 (OkHttp's Dns), so no real DNS is ever asked.
// Texts in answers are URL-encoded so that any character survives one line.
package pingen.probe

import java.io.File
import java.net.InetAddress
import java.net.URLEncoder
import java.security.KeyStore
import java.security.cert.CertificateFactory
import java.util.concurrent.TimeUnit
import javax.net.ssl.SSLContext
import javax.net.ssl.SSLPeerUnverifiedException
import javax.net.ssl.TrustManagerFactory
import javax.net.ssl.X509TrustManager
import okhttp3.CertificatePinner
import okhttp3.ConnectionPool
import okhttp3.Dns
import okhttp3.OkHttpClient
import okhttp3.Request

private val loopback = InetAddress.getByAddress("localhost", byteArrayOf(127, 0, 0, 1))

private object LoopbackDns : Dns {
    override fun lookup(hostname: String): List<InetAddress> =
        listOf(InetAddress.getByAddress(hostname, loopback.address))
}

private fun trustManager(rootsPem: File): X509TrustManager {
    val certificates = rootsPem.inputStream().use {
        CertificateFactory.getInstance("X.509").generateCertificates(it)
    }
    val keyStore = KeyStore.getInstance(KeyStore.getDefaultType()).apply { load(null, null) }
    certificates.forEachIndexed { index, cert -> keyStore.setCertificateEntry("ca$index", cert) }
    val factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm())
    factory.init(keyStore)
    return factory.trustManagers.filterIsInstance<X509TrustManager>().single()
}

private fun baseClient(trust: X509TrustManager): OkHttpClient {
    val tls = SSLContext.getInstance("TLS").apply { init(null, arrayOf(trust), null) }
    return OkHttpClient.Builder()
        .sslSocketFactory(tls.socketFactory, trust)
        .dns(LoopbackDns)
        .connectionPool(ConnectionPool(0, 1, TimeUnit.SECONDS))
        .connectTimeout(10, TimeUnit.SECONDS)
        .readTimeout(10, TimeUnit.SECONDS)
        .build()
}

private fun pinner(className: String): CertificatePinner {
    if (className == "-") return CertificatePinner.DEFAULT
    val holder = Class.forName(className).getField("INSTANCE").get(null)
    return holder.javaClass.getMethod("getCertificatePinner").invoke(holder) as CertificatePinner
}

private fun encode(text: String): String = URLEncoder.encode(text, "UTF-8")

private fun get(client: OkHttpClient, host: String, port: Int): String =
    try {
        val request = Request.Builder().url("https://$host:$port/").build()
        client.newCall(request).execute().use { "OK\t${it.code}" }
    } catch (e: SSLPeerUnverifiedException) {
        val message = e.message ?: ""
        if (message.startsWith("Certificate pinning failure")) "PINNING_FAILURE\t${encode(message)}"
        else "ERROR\t${encode("${e.javaClass.name}: $message")}"
    } catch (e: Exception) {
        "ERROR\t${encode("${e.javaClass.name}: ${e.message}")}"
    }

fun main(args: Array<String>) {
    val client = baseClient(trustManager(File(args[0])))
    generateSequence(::readLine).filter { it.isNotBlank() }.forEach { line ->
        val fields = line.split("\t")
        val id = fields[0]
        try {
            answer(client, id, fields)
        } catch (e: Throwable) { // e.g. a pinner whose initialiser threw
            val cause = e.cause ?: e
            println("$id\tERROR\t${encode("${cause.javaClass.name}: ${cause.message}")}")
        }
        System.out.flush()
    }
}

private fun answer(client: OkHttpClient, id: String, fields: List<String>) {
    when (fields[1]) {
        "GET" -> {
            val pinned = client.newBuilder().certificatePinner(pinner(fields[2])).build()
            println("$id\t${get(pinned, fields[3], fields[4].toInt())}")
        }
        "PINS" -> {
            for (pin in pinner(fields[2]).pins.sortedBy { it.toString() + it.pattern }) {
                println("$id\tPIN\t${encode(pin.pattern)}\t${encode(pin.toString())}")
            }
            println("$id\tEND")
        }
        else -> println("$id\tERROR\t${encode("unknown command ${fields[1]}")}")
    }
}
