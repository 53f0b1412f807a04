package main

// longIt holds the commands' Long help in Italian, by command path without
// "visengine ". The English text stays beside each command; a command not
// listed here shows it in either language. TestLongHelpIt keeps the flags
// each text names the same in both.
var longIt = map[string]string{
	"catalogue": `Elenca i servizi del catalogo (GET /visure) per categoria e nome, con il
prezzo base di ciascuno. Il catalogo non ha prezzi, quindi si leggono da ogni
servizio (GET /visure/{hash}, pochi alla volta); --no-prices fa una sola chiamata.`,
	"show": `Mostra un servizio (GET /visure/{hash}): i campi nell'ordine di visualizzazione
con il tipo, ciò che la regola chiede a ciascuno (obbligatorio, uno tra,
facoltativo) e le istruzioni; la regola spiegata (i campi sempre obbligatori, ogni
modo di soddisfarla); il prezzo con ogni opzione; le istruzioni del servizio.`,
	"download": `Salva il documento di una richiesta, uno zip, in ID.zip o in -o FILE ("-o -" lo
scrive sullo standard output). Il file compare solo quando l'intero documento è
arrivato e corrisponde alla dimensione dichiarata. --extract DIR poi controlla
l'archivio (nessun percorso fuori da DIR, nessun collegamento, nessuna bomba) e
lo estrae lì, senza mai sovrascrivere. Se lo standard error è un terminale si
vede una barra di avanzamento.`,
	"wait": `Segue una richiesta finché il documento è pronto, i risultati della ricerca
attendono una scelta, la ricerca non è riuscita o la richiesta è stata annullata,
stampando ogni cambio di stato. I documenti li preparano degli operatori e possono
richiedere ore: i controlli partono a --interval di distanza e crescono fino a
--max-interval. --json stampa un oggetto JSON per cambio, uno per riga.

Stato di uscita: 0 il documento è pronto (o i risultati della ricerca attendono
una scelta); 1 la richiesta è stata annullata o la ricerca non è riuscita; 2 un
altro errore.`,
	"validate": `Controlla un richiedente rispetto a un servizio, in locale e gratis: la regola
del servizio sui campi compilati, e la forma di ogni campo compilato (codice
fiscale e suo carattere di controllo, e-mail, date, file…). Ogni problema è
elencato con nome del campo e motivo, mai con il valore.

APPLICANT.json è un oggetto JSON con per chiavi la chiave del campo ("$4") o il
nome del campo come lo scrive il servizio ("CODICE FISCALE", maiuscole o
minuscole), e per valori stringhe. Il valore "@percorso/scansione.pdf" di un campo
file si legge da quel file, relativo alla cartella del file JSON; il tipo MIME
si ricava dal contenuto:

  {"Nome": "Mario", "Cognome": "Rossi", "CODICE FISCALE": "RSSMRA85M01H501Q",
   "COPIA DOCUMENTO D` + "`" + `IDENTITÀ FRONTE RETRO": "@documento.pdf"}

Stato di uscita: 0 valido, 1 non valido, 2 errore d'uso o altro (JSON errato, un
campo sconosciuto, un file mancante). --json stampa l'elenco dei problemi ([] se
valido).`,
	"token": `Gestisce i token bearer dell'account Openapi (OAuth v2, v1 con --v1), con
l'e-mail e la API key dell'account in OPENAPI_EMAIL e OPENAPI_APIKEY. --sandbox
lavora sulla sandbox, i cui token funzionano sulla sandbox di Visengine.`,
	"token create": `Crea un token per Visengine e lo stampa da solo sullo standard output, così che
    export VISENGINE_TOKEN=$(visengine token create)
funzioni. Riceve ogni ambito che serve a un client (leggere il catalogo, creare,
chiudere e leggere richieste, scaricare documenti), solo quelli di lettura con
--read-only, o esattamente quelli indicati con --scope.`,
	"audit": `Riconcilia i movimenti del portafoglio (OAuth v2, OPENAPI_EMAIL e OPENAPI_APIKEY)
con il giornale degli invii su un periodo: ogni addebito Visengine con ogni invio
che il giornale registra come completato, il cui importo si rilegge da Visengine
(VISENGINE_TOKEN). I movimenti non dicono quale richiesta un addebito ha pagato,
quindi gli addebiti si abbinano per importo esatto e orario (entro --tolerance
dalla chiusura). Si riportano: conteggi e totali, ogni addebito che nessun invio
spiega (un doppio addebito, un addebito fatto fuori da questo giornale, il prezzo
di una ricerca) e ogni invio che nessun addebito paga.

DATE è un giorno (2026-11-01, mezzanotte UTC) o un orario RFC 3339; --until vale
per difetto adesso.

Stato di uscita: 0 tutto spiegato; 1 qualcosa non è spiegato; 2 errore d'uso o
altro errore.`,
	"resume": `Completa un invio che 'visengine submit' ha lasciato con esito ignoto (stato di
uscita 3): rilegge la richiesta e, solo se è ancora una bozza e nessuna chiusura è
stata inviata entro il tempo di assestamento, la chiude, pagando una volta. Non
chiude mai due volte.

Deve sapere se e quando è stata inviata una chiusura: lo dice il giornale degli
invii, per ciò che questa macchina ha inviato; altrimenti indicare
--close-sent-at (come l'ha stampato submit) o --no-close-sent. Senza nessuno dei
due non chiude nulla.

Stato di uscita: 0 chiusa (addebitata una volta); 1 abbandonata (nulla è stato
addebitato); 2 il server ha rifiutato, o un altro errore; 3 ancora ignoto o in
sospeso.`,
	"recover": `Scorre il giornale degli invii (tenuto da 'visengine submit' nella cartella di
stato dell'utente) e completa o segnala ogni invio rimasto a metà: per un submit
interrotto, una risposta persa, un crash. Ognuno si rilegge dal server: quelli
chiusi sono completati; le bozze la cui chiusura è registrata si chiudono una
volta, dopo il tempo di assestamento; le bozze mai confermate sono abbandonate
(nulla è stato addebitato); ciò che non si può dimostrare è segnalato come ignoto
e lasciato alla prossima esecuzione. Si può eseguire in ogni momento, quante
volte si vuole.

Stato di uscita: 0 ogni invio esaminato è definito; 2 un errore; 3 alcuni sono
ancora ignoti o in sospeso: rieseguirlo più tardi.`,
	"visengine": `visengine usa Visengine 2.0 di Openapi da un terminale o da uno script: sfogliare
il catalogo, leggere campi, regola e prezzo di un servizio, controllare un
richiedente in locale prima di pagare, inviare una sola volta, seguire la
richiesta e scaricarne il documento.

Ambiente:
  VISENGINE_TOKEN    il token bearer (ogni comando Visengine lo richiede)
  VISENGINE_URL      un altro server, come 'visengine fake'; prevale su --sandbox
  OPENAPI_EMAIL      l'e-mail dell'account Openapi, per 'token', 'wallet', 'audit'
  OPENAPI_APIKEY     la API key dell'account Openapi, per 'token', 'wallet', 'audit'
  OPENAPI_OAUTH_URL  un altro servizio OAuth; prevale su --sandbox
  VISENGINE_JOURNAL  la cartella del giornale degli invii (per difetto:
                     visengine/journal in $XDG_STATE_HOME, o la cartella di stato
                     del sistema)
  NO_COLOR           nessun colore, anche su un terminale
  LC_ALL, LANG       la lingua dei messaggi, italiano o inglese (--lang prevale)

Nessun account? 'visengine fake' avvia un Visengine finto su questa macchina e
stampa le variabili da esportare.

Stato di uscita: 0 successo; 1 la risposta è "no" (richiedente non valido,
rifiutata, annullata); 2 errore d'uso o altro errore; 3 l'esito di una chiamata a
pagamento è ignoto (potrebbe essere stata addebitata: non inviare di nuovo;
'visengine resume ID' la completa).`,
	"submit": `Invia un richiedente per un servizio, pagandolo una sola volta. Il richiedente
si controlla prima in locale (vedere 'visengine help validate' per APPLICANT.json);
poi il prezzo totale, opzioni comprese, si mostra e si conferma prima di pagare
qualsiasi cosa, a meno di --yes. Senza un terminale sullo standard input non si
può chiedere a nessuno, quindi --yes è necessario. --dry-run fa controllare e
prezzare la richiesta al server senza salvare né addebitare nulla.

L'invio è una bozza gratuita e poi una chiamata di chiusura che addebita il
portafoglio; la chiamata di chiusura non si invia mai due volte. Se riesce, l'ID
della richiesta si stampa da solo sullo standard output, per gli script. Se la
risposta alla chiamata a pagamento va persa, lo stato di uscita è 3: la richiesta
potrebbe essere stata addebitata, quindi non inviarla di nuovo; 'visengine resume
ID' la completa.

Ogni passo si registra prima nel giornale degli invii, nella cartella di stato
dell'utente ($XDG_STATE_HOME/visengine/journal, o l'equivalente del sistema; la
variabile VISENGINE_JOURNAL ne indica un'altra): contiene id, orari e un'impronta
dei valori, nessun dato personale. Un submit interrotto a metà lo completa, o lo
segnala, 'visengine recover'.

--callback URL chiede a Visengine di inviare lì la richiesta quando è pronta, con
il segreto in VISENGINE_CALLBACK_SECRET (quello che il destinatario verifica).

  visengine submit HASH --batch DIR --yes [--concurrency N] [--results FILE]

invia ogni richiedente in DIR/*.json, in ordine di nome, al massimo --concurrency
alla volta (per difetto 4), pagando ogni richiedente una sola volta: il nome di un
file senza .json è la sua chiave di idempotenza (da 1 a 255 caratteri ASCII
stampabili). Chiamare i file con un numero di pratica, non con una persona: le
chiavi si stampano e si scrivono in --results (il giornale ne tiene solo un hash
con chiave). Rieseguire lo stesso lotto, dopo un crash, un'interruzione o una
correzione, non paga nulla due volte: i richiedenti già pagati risultano "già
pagata". Un richiedente non valido si segnala e si salta; gli altri proseguono. Se
il file di un richiedente cambia dopo il pagamento, la sua chiave è rifiutata
(key_reused) e non si invia nulla. Un lotto richiede --yes e il giornale (niente
--dry-run, niente --no-journal); le opzioni, l'e-mail e la callback valgono per
ogni richiedente. --rate cadenza le richieste per restare sotto il limite
dell'account; un 429 (troppe richieste) si attende, come chiede il Retry-After del
server, e il passo si invia di nuovo. Ctrl-C non avvia altri richiedenti e lascia
finire quelli in corso.

Lo standard output riceve "CHIAVE<TAB>ID" per ogni richiedente pagato, ora o prima
(--json: un oggetto JSON per riga per ogni richiedente); lo standard error ciò che
è successo a ciascuno, una barra di avanzamento se è un terminale, e un riepilogo.
--results FILE scrive una riga JSON per richiedente appena finisce: key, id,
outcome (paid, already_paid, invalid, key_reused, refused, failed, unknown,
skipped), price, codici dei problemi ed errore; un'esecuzione interrotta a metà
lascia solo righe intere.`,
}
