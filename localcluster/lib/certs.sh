# shellcheck shell=bash
# Certificates of the local cluster, made with openssl. Source it after lib/log.sh; do not run it.
#
#   cert_ca DIR NAME CN                           a self-signed CA: DIR/NAME.key, DIR/NAME.crt
#   cert_issue DIR NAME CA SUBJECT USAGES [SANS]  DIR/NAME.key, DIR/NAME.crt signed by CA.crt/CA.key
#                                                 (CA: a path without the suffix, e.g. "$PKI_DIR/ca")
#   cert_valid CRT [CA_CRT]                       CRT exists, is signed by CA_CRT when given, and
#                                                 does not expire within 30 days
#
# Each one is (re)made only when it is missing, not valid or expiring: a second run changes
# nothing. Keys are EC P-256, readable by the owner only. CERT_CA_DAYS (default 3650) and
# CERT_DAYS (default 730) set the validity; CERTS_ISSUED counts what this shell (re)made.

CERT_CA_DAYS="${CERT_CA_DAYS:-3650}"
CERT_DAYS="${CERT_DAYS:-730}"
CERTS_ISSUED=0

cert_key() { # FILE
  ( umask 077; openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null ) ||
    die "openssl cannot create the key $1"
}

cert_valid() { # CRT [CA_CRT]
  local crt=$1 ca=${2:-}
  [[ -s $crt && -s ${crt%.crt}.key ]] || return 1
  if [[ -n $ca ]]; then
    openssl verify -CAfile "$ca" "$crt" >/dev/null 2>&1 || return 1
  fi
  openssl x509 -checkend $(( 30 * 86400 )) -noout -in "$crt" >/dev/null 2>&1
}

cert_ca() { # DIR NAME CN
  local dir=$1 name=$2 cn=$3
  cert_valid "$dir/$name.crt" && return 0
  log "creating CA $name"
  mkdir -p "$dir"
  cert_key "$dir/$name.key"
  openssl req -x509 -new -key "$dir/$name.key" -days "$CERT_CA_DAYS" -subj "/CN=$cn" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -out "$dir/$name.crt" 2>/dev/null || die "openssl cannot create the CA $dir/$name.crt"
  CERTS_ISSUED=$(( CERTS_ISSUED + 1 ))
}

# USAGES: the extended key usages ("serverAuth", "clientAuth", "serverAuth,clientAuth");
# SANS: openssl's subjectAltName syntax ("IP:127.0.0.1,DNS:localhost"). The CA's serial file is
# DIR/<CA name>.srl.
cert_issue() { # DIR NAME CA SUBJECT USAGES [SANS]
  local dir=$1 name=$2 ca=$3 subj=$4 eku=$5 san=${6:-} ext
  cert_valid "$dir/$name.crt" "$ca.crt" && return 0
  log "issuing certificate $name ($subj)"
  mkdir -p "$dir"
  cert_key "$dir/$name.key"
  ext="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=$eku
authorityKeyIdentifier=keyid
subjectKeyIdentifier=hash"
  [[ -n $san ]] && ext+=$'\n'"subjectAltName=$san"
  if ! openssl req -new -key "$dir/$name.key" -subj "$subj" -out "$dir/$name.csr" 2>/dev/null ||
     ! openssl x509 -req -in "$dir/$name.csr" -CA "$ca.crt" -CAkey "$ca.key" \
       -CAserial "$dir/${ca##*/}.srl" -CAcreateserial -days "$CERT_DAYS" -sha256 \
       -extfile <(printf '%s\n' "$ext") -out "$dir/$name.crt" 2>/dev/null; then
    die "openssl cannot issue the certificate $dir/$name.crt"
  fi
  rm -f "$dir/$name.csr"
  CERTS_ISSUED=$(( CERTS_ISSUED + 1 ))
}
