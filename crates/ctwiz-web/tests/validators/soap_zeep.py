"""An independent SOAP client (zeep) against ctwiz's CDC IIS web service.

Usage: soap_zeep.py BASE_URL USERNAME PASSWORD FACILITY VXU_FILE

Reads the WSDL the service serves at BASE_URL/iis/soap?wsdl, calls
connectivityTest and submitSingleMessage through zeep's SOAP 1.2 binding, checks
that a wrong password comes back as the WSDL's SecurityFault, and that the
HL7 answer is an ACK^V04 that python-hl7 can read. Then posts, with plain
requests + lxml, a SOAP 1.1 envelope (VersionMismatch expected), a header
marked mustUnderstand (MustUnderstand) and a body that is not XML (Sender).
Prints one line per check; exits 1 if any fails.
"""

import sys

import hl7
import requests
import zeep
from lxml import etree

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
NS = "urn:cdc:iisb:2011"

failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))
    if not ok:
        failures.append(name)


def fault_code(xml):
    doc = etree.fromstring(xml)
    value = doc.find(f".//{{{SOAP12}}}Code/{{{SOAP12}}}Value")
    if value is not None:
        return value.text
    code = doc.find(".//faultcode")
    return code.text if code is not None else None


def main():
    base, user, password, facility, vxu_file = sys.argv[1:6]
    url = f"{base}/iis/soap"
    vxu = open(vxu_file, encoding="utf-8").read()

    client = zeep.Client(f"{url}?wsdl")
    service = client.service
    check("connectivityTest echoes", service.connectivityTest(echoBack="ping") == "ping")

    answer = service.submitSingleMessage(
        username=user, password=password, facilityID=facility, hl7Message=vxu)
    msg = hl7.parse(answer.replace("\n", "\r"))
    check("submitSingleMessage answers an ACK^V04", str(msg.segment("MSH")[9]) == "ACK^V04^ACK", answer)
    check("the ACK accepts the VXU", str(msg.segment("MSA")[1]) == "AA", answer)

    try:
        service.submitSingleMessage(
            username=user, password="wrong", facilityID=facility, hl7Message=vxu)
        check("a wrong password is a SecurityFault", False, "no fault")
    except zeep.exceptions.Fault as f:
        detail = f.detail
        names = [etree.QName(d).localname for d in detail] if detail is not None else []
        check("a wrong password is a SecurityFault", "SecurityFault" in names, names)
        check("its reason says what failed", "username or password" in (f.message or ""), f.message)

    soap11 = (f'<s:Envelope xmlns:s="{SOAP11}" xmlns:urn="{NS}"><s:Body>'
              '<urn:connectivityTest><urn:echoBack>x</urn:echoBack></urn:connectivityTest>'
              '</s:Body></s:Envelope>')
    r = requests.post(url, data=soap11, headers={"Content-Type": "text/xml; charset=utf-8",
                                                 "SOAPAction": '"urn:cdc:iisb:2011:connectivityTest"'})
    check("SOAP 1.1 gets VersionMismatch (HTTP 500)",
          r.status_code == 500 and (fault_code(r.content) or "").endswith("VersionMismatch"),
          f"{r.status_code} {r.text[:300]}")

    must = (f'<soap:Envelope xmlns:soap="{SOAP12}" xmlns:urn="{NS}" xmlns:x="urn:example:x">'
            '<soap:Header><x:Token soap:mustUnderstand="true">t</x:Token></soap:Header>'
            '<soap:Body><urn:connectivityTest><urn:echoBack>x</urn:echoBack></urn:connectivityTest>'
            '</soap:Body></soap:Envelope>')
    r = requests.post(url, data=must, headers={"Content-Type": "application/soap+xml; charset=utf-8"})
    doc = etree.fromstring(r.content)
    nu = doc.find(f".//{{{SOAP12}}}NotUnderstood")
    check("an unknown mustUnderstand header gets MustUnderstand with NotUnderstood",
          r.status_code == 500 and (fault_code(r.content) or "").endswith("MustUnderstand")
          and nu is not None, f"{r.status_code} {r.text[:300]}")

    r = requests.post(url, data="this is not XML",
                      headers={"Content-Type": "application/soap+xml; charset=utf-8"})
    check("a body that is not XML is the sender's fault (HTTP 400)",
          r.status_code == 400 and (fault_code(r.content) or "").endswith("Sender"),
          f"{r.status_code} {r.text[:300]}")

    print(f"{'all' if not failures else len(failures)} {'checks pass' if not failures else 'check(s) failed'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
