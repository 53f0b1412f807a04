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
}
