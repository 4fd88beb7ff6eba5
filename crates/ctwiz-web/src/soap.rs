//! The CDC IIS SOAP web service (WSDL 2011, urn:cdc:iisb:2011): submitSingleMessage and connectivityTest.
