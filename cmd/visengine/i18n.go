package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/visengine-go/visengine"
)

// cliText holds the command's own sentences, per language, by a stable
// code; the messages about applicants, outcomes and states come from the
// SDK's tables (ProblemsIn, ValidationError.Message, Stato.Message). The
// English text is never a key. A sentence may hold fmt verbs, the same in
// every language.
var cliText = map[visengine.Lang]map[string]string{
	visengine.English: {
		"noToken": "no token: set VISENGINE_TOKEN to a Visengine token " +
			"(create one with 'visengine token create', given OPENAPI_EMAIL and OPENAPI_APIKEY), " +
			"or try 'visengine fake' for a local fake server that charges nothing",
		"interrupted":          "interrupted",
		"unknownCommand":       " (see 'visengine help')",
		"unauthorized":         "; check VISENGINE_TOKEN (a sandbox token works only with --sandbox, and VISENGINE_URL wins over both)",
		"valid":                "valid",
		"validText":            "%s: the applicant satisfies the rule of %q and every filled field is well formed\n",
		"invalid":              "invalid",
		"invalidText":          "%s: %d problem(s)\n",
		"ruleNote":             "note: the service's rule cannot be checked here; the server will judge which fields are needed",
		"declined":             "not submitted: nothing was sent or charged",
		"applicantInvalid":     "not submitted: the applicant is invalid; nothing was sent or charged",
		"noTerminal":           "not submitted: this costs %s and standard input is not a terminal, so nobody can confirm; pass --yes to pay",
		"with":                 " with ",
		"prompt":               "%s\nTotal %s, charged to the wallet when submitted. Submit? [y/N] ",
		"yes":                  "y yes",
		"submitted":            "submitted: richiesta %s, %s, %s; follow it with 'visengine wait %s'\n",
		"dryRun":               "dry run: the server accepts it for %s; nothing was stored or charged (%s)\n",
		"documentReady":        "document ready: visengine download %s\n",
		"searchWaits":          "search results wait for a choice (this command cannot choose one yet; the SDK's ChooseRisultato can)\n",
		"cancelled":            "richiesta %s was cancelled (Annullata)",
		"searchFailed":         "the last search of richiesta %s failed: it waits for another search",
		"seeHelp":              "%s (see '%s -h')",
		"argCount":             "%s needs %s, got %d argument(s)",
		"argsNone":             "no arguments",
		"argsAuditNone":        "no arguments (the period is --since and --until)",
		"argsToken":            "a TOKEN",
		"argsHashBatch":        "a service HASH (and the applicants in --batch DIR)",
		"argsHashApplicant":    "a service HASH and an APPLICANT.json",
		"argsID":               "a richiesta ID",
		"argsHash":             "a service HASH",
		"batchInterrupted":     "interrupted: finishing the applicants in flight (for at most %s), starting no more\n",
		"batchPaid":            "%s: %s: richiesta %s, %s",
		"batchAlreadyPaid":     "%s: %s: richiesta %s; nothing charged now",
		"batchInvalid":         "%s: %s: %s; not submitted, nothing charged",
		"batchBar":             "%s %d paid, %d already paid",
		"batchPaidNow":         "%d paid now (%s)",
		"batchOf":              "batch of %d: %s\n",
		"batchUnknownHint":     "unknown ones may have been charged: do NOT submit them again by other means; 'visengine recover' finishes them (after the settle time), then run this batch again to see them paid",
		"batchFixHint":         "fix what was not paid and run the same batch again: applicants already paid are not paid twice",
		"batchSkipped":         "interrupted: the skipped applicants were not submitted",
		"outcome.paid":         "paid",
		"outcome.already_paid": "already paid",
		"outcome.invalid":      "invalid",
		"outcome.key_reused":   "key reused",
		"outcome.refused":      "refused",
		"outcome.failed":       "failed",
		"outcome.unknown":      "unknown",
		"outcome.skipped":      "skipped",
		"count.already_paid":   "%d already paid",
		"count.invalid":        "%d invalid",
		"count.key_reused":     "%d key reused",
		"count.refused":        "%d refused",
		"count.failed":         "%d failed",
		"count.unknown":        "%d unknown",
		"count.skipped":        "%d skipped",
		"batchNotFolder":       "--batch: %s is not a folder",
		"batchEmpty":           "--batch: %s holds no applicant (*.json)",
		"batchDryRun":          "--dry-run works on one APPLICANT.json, not with --batch",
		"batchNoJournal":       "--batch needs the journal: it is what pays each applicant once across runs",
		"batchNoYes":           "--batch pays for every applicant without asking: pass --yes",
		"batchConcurrency":     "--concurrency must be 1 to %d",
		"batchRate":            "--rate must be a number of requests per second, or 0 for no limit",
		"batchResultsInside":   "--results names a file the next run would read as an applicant: write it outside the batch's folder, or not as .json",
		"failDraftUnknown":     "%v; nothing was charged: submitting again is safe",
		"failDraft":            "%v; nothing was charged",
		"failUnknown":          "%v; richiesta %s may have been charged: do NOT submit again; %v",
		"failNoClose":          "%v; richiesta %s is an unpaid draft: 'visengine resume %s --no-close-sent' would pay for it",
		"failClose":            "%v; richiesta %s stays an unpaid draft: once the cause is fixed, 'visengine resume %s' pays for it",
		"hintJournalled":       "after %s, '%s' (or 'visengine recover') finishes it",
		"hintNow":              "'%s' finishes it",
		"hintAfter":            "after %s, '%s' finishes it",
		"callbackNoSecret":     "note: %s is not set: the callback carries a new random secret that no receiver knows\n",
		"journalOpen":          "the submission journal in %s: %v (set %s to use another folder)",
		"journalWaiting":       "waiting for the submission journal in %s: another visengine is using it\n",
		"journalBusy":          "the submission journal in %s: %v",
		"closeSentAtBad":       "--close-sent-at needs a time such as 2026-03-01T09:00:00Z",
		"resCompleted":         "closed: charged once, nothing left to do",
		"resResumed":           "was still a draft and is closed now: charged once",
		"resAbandoned":         "nothing was charged; submit the applicant again if the document is still wanted",
		"resPending":           "a close was sent lately and may still be applied: look again after %s",
		"resFailed":            "the server refused to close it; nothing was charged, the draft is open",
		"resUnknown":           "what happened cannot be proven; nothing was closed: do NOT submit again",
		"noRichiesta":          "(no richiesta)",
		"nothingToRecover":     "nothing to recover: every journalled submission is settled",
		"rowService":           "Service\t%s (%s)\n",
		"rowState":             "State\t%s\n",
		"rowPrice":             "Price\t%s",
		"rowPriceBase":         "Price\t%s before options",
		"rowCreated":           "Created\t%s\n",
		"rowUpdated":           "Updated\t%s\n",
		"rowDocument":          "Document\tready: visengine download %s\n",
		"rowFile":              "File\t%s\n",
		"noRichieste":          "no richieste yet",
		"listHeader":           "ID\tCREATED\tSTATE\tBASE PRICE\tSERVICE\tSTATO",
		"sinceRequired":        "--since is required",
		"flagErr":              "%s: %v",
		"tolerancePositive":    "--tolerance must be positive",
		"badDay":               "%q is neither a day (2026-11-01) nor an RFC 3339 time",
		"auditPeriod":          "period       %s → %s\n",
		"auditCharges":         "charges      %d  %s\n",
		"auditSubmissions":     "submissions  %d  %s\n",
		"auditRefunds":         "refunds      %d  %s\n",
		"auditMatched":         "matched      %d\n",
		"auditCharge":          "unexplained charge      %s  %s  %s  %s\n",
		"auditSubmission":      "unexplained submission  %s  %s  %s  ref %s\n",
		"auditUnpriced":        "unpriced submission     %s  %s  ref %s: %s\n",
		"auditUnreadable":      "unreadable transaction  %s\n",
		"auditClean":           "everything explained",
		"notExtracted":         "the document was saved to %s, but not extracted: %v",
		"extractStdout":        "--extract needs a file: it cannot read back \"-o -\"",
		"zipTerminal":          "\"-o -\" would print a zip on the terminal: redirect it, or give a file",
		"partialStdout":        "%v; the %d bytes already written are not a valid document: discard them",
		"saved":                "saved %s (%d bytes)\n",
		"extractedInto":        "extracted into %s:\n",
		"fileBytes":            "  %s\t%d bytes\n",
		"noAccount":            "no account: set %s and %s to your Openapi account's e-mail and API key (from the Openapi console), or try 'visengine fake' for a local fake server",
		"tokenCreated":         "created a token with %d scope(s), expiring %s\n",
		"noTokens":             "no tokens",
		"tokensHeader":         "TOKEN\tNAME\tEXPIRES\tSCOPES",
		"revoked":              "revoked %s\n",
		"credit":               "credit %s\n",
		"pricesUnread":         "the price of %d of %d services could not be read (shown as ?); the first error: %v",
		"catalogueHeader":      "HASH\tCATEGORY\tNAME",
		"cataloguePrice":       "\tPRICE",
		"notOption":            "--opzioni: %q is not an option of %s; %v",
		"offersNone":           "it offers no options",
		"offers":               "it offers: %s",
		"showHash":             "Hash %s, category %s\n",
		"showSearch":           "Starts with a search; choosing a result costs %s more\n",
		"showFields":           "\nFields, in display order:",
		"showHeader":           "  KEY\tNAME\tTYPE\tNEED\tINSTRUCTIONS",
		"need.required":        "required",
		"need.one-of":          "one-of",
		"need.optional":        "optional",
		"need.?":               "?",
		"showPrice":            "\nPrice %s",
		"showWith":             ", with %s (%s) %s",
		"showAll":              ", with all options %s",
		"showInstructions":     "\nInstructions:\n%s\n",
		"ruleLine":             "\nRule: %s\n",
		"ruleUnchecked":        "  It cannot be checked here (%s): the server will judge which fields are needed.\n",
		"ruleRequired":         "  Always required: %s\n",
		"ruleWays":             "  Ways to satisfy it, each needed whole:",
		"ruleMore":             "  (more ways exist than can be listed)",
		"ruleOptional":         "  Optional: %s\n",
		"lineErr":              "%s:%d: %s: %v",
		"applicantFile":        "%s: the applicant file %v",
		"notAField":            "%s:%d: %s is not a field of this service: use a key ($N) or a name as 'visengine show %s' lists them; its fields, closest first: %s",
		"theKey":               "the key",
		"givenTwice":           "%s:%d: %s is given twice (also on line %d)",
		"notObject":            "not a JSON object: write {\"$0\": \"…\", \"CODICE FISCALE\": \"…\", \"COPIA …\": \"@scan.pdf\"}",
		"notString":            "line %d: a value must be a JSON string (quote numbers: a phone number's leading 0 or + would be lost)",
		"moreAfter":            "line %d: more after the object",
		"badJSON":              "line %d: not valid JSON",
		"shortJSON":            "the JSON ends too soon: is a brace or a quote missing?",
		"atNoFile":             "\"@\" names no file",
		"atOutside":            "its \"@\" file is not inside the applicant's folder: name it relative to the JSON file, without \"..\" or a leading \"/\"",
		"folderUnreadable":     "its folder cannot be read: %v",
		"itsFile":              "its file %v",
		"notScan":              "its file is not a PDF, JPEG or PNG (its content looks like %s)",
		"fileUnreadable":       "its file cannot be read: %v",
		"symlinkOut":           "its \"@\" file is a symlink (or in a folder that is one) leading out of the applicant's folder: copy the file in instead",
		"isFolder":             "is a folder",
		"notRegular":           "is not a regular file (a device, a pipe or a socket): copy the content into a file",
		"tooBig":               "has %d bytes, over the %d allowed",
		"grewTooBig":           "has more than the %d bytes allowed",
		"cannotRead":           "cannot be read: %v",
		"tokenGeneric":         "VISENGINE_TOKEN is wrong or expired (with OPENAPI_EMAIL and OPENAPI_APIKEY set, this command tells which; a sandbox token works only with --sandbox, and VISENGINE_URL wins over both)",
		"tokenNotFound":        "VISENGINE_TOKEN is not a token of this account (wrong, or revoked): 'visengine token list' shows the live ones, 'visengine token create' makes one",
		"tokenExpired":         "VISENGINE_TOKEN expired at %s: 'visengine token create' makes a new one",
		"tokenLive":            "VISENGINE_TOKEN is a live token of this account, yet the server refused it: check VISENGINE_URL and --sandbox",
		"noScheme":             "%s has no scheme: write http:// (on loopback, e.g. http://127.0.0.1:8080) or https:// before the host",
		"noLocalAppData":       "%%LocalAppData%% is not set: set %s to a folder for the submission journal",
		"noHome":               "no home folder: set %s or XDG_STATE_HOME to a folder for the submission journal",
		"keyLength":            "its file name, the idempotency key, must be 1 to 255 characters before .json",
		"keyASCII":             "its file name, the idempotency key, must be printable ASCII (letters, digits, - _ . and spaces): rename the file",
		"problemCount":         "%d problem(s)",
		"paidByJournal":        "paid (the journal says so), but not read back: %v",
		"unknownByJournal":     "%v; richiesta %s may have been charged (a close was sent): do NOT submit again; 'visengine recover' finishes it once its state can be read",
		"keyReused":            "its key was already submitted with other values or options (was the file changed after it was paid?); nothing was sent",
		"skippedInterrupted":   "not submitted: the batch was interrupted",
		"short.token":          "Create, list and revoke the account's Visengine tokens",
		"short.token create":   "Create a token with Visengine's scopes and print it",
		"short.token list":     "List the account's tokens, their values masked",
		"short.token revoke":   "Revoke a token: it stops working at once",
		"short.wallet":         "Show the account's credit, from which richieste are paid",
		"short.audit":          "Explain every Visengine charge in the wallet's ledger from the submission journal",
		"short.catalogue":      "List the services: hash, category, name, price",
		"short.download":       "Save a richiesta's document (a zip), optionally extracted",
		"short.fake":           "Serve a fake Visengine on this machine, to try everything for free",
		"short.visengine":      "Openapi's Visengine 2.0 from a terminal: catalogue, validation, submission, documents",
		"short.resume":         "Finish a submission whose paid close has an unknown outcome",
		"short.recover":        "Finish or report every submission a crash left unfinished",
		"short.status":         "Show one richiesta: state, progress, price, files",
		"short.list":           "List the account's richieste, oldest first",
		"short.show":           "Show a service's fields, rule, options and prices",
		"short.submit":         "Validate, price, confirm and pay for one richiesta",
		"short.validate":       "Check an applicant locally, before paying",
		"short.wait":           "Follow a richiesta to the end, showing each change of state",
		"barBytes":             "\r%d bytes",
		"barPercent":           "\r[%s%s] %3d%%  %d/%d bytes",
		"jsonCommands":         "--json (one JSON object for programs instead of text) with: %s.",
	},
	visengine.Italian: {
		"noToken": "manca il token: impostare VISENGINE_TOKEN a un token Visengine " +
			"(crearne uno con 'visengine token create', dati OPENAPI_EMAIL e OPENAPI_APIKEY), " +
			"oppure provare 'visengine fake', un server finto locale che non addebita nulla",
		"interrupted":          "interrotto",
		"unknownCommand":       " (vedere 'visengine help')",
		"unauthorized":         "; controllare VISENGINE_TOKEN (un token sandbox funziona solo con --sandbox, e VISENGINE_URL prevale su entrambi)",
		"valid":                "valido",
		"validText":            "%s: il richiedente soddisfa la regola di %q e ogni campo compilato è ben formato\n",
		"invalid":              "non valido",
		"invalidText":          "%s: problemi: %d\n",
		"ruleNote":             "nota: la regola del servizio non si può verificare qui; sarà il server a stabilire quali campi servono",
		"declined":             "non inviata: non è stato inviato né addebitato nulla",
		"applicantInvalid":     "non inviata: il richiedente non è valido; non è stato inviato né addebitato nulla",
		"noTerminal":           "non inviata: costa %s e l'input standard non è un terminale, quindi nessuno può confermare; passare --yes per pagare",
		"with":                 " con ",
		"prompt":               "%s\nTotale %s, addebitato sul portafoglio all'invio. Inviare? [s/N] ",
		"yes":                  "s si sì y yes",
		"submitted":            "inviata: richiesta %s, %s, %s; seguirla con 'visengine wait %s'\n",
		"dryRun":               "prova: il server la accetta per %s; nulla è stato salvato o addebitato (%s)\n",
		"documentReady":        "documento pronto: visengine download %s\n",
		"searchWaits":          "i risultati della ricerca attendono una scelta (questo comando non sa ancora sceglierne uno; ChooseRisultato dell'SDK sì)\n",
		"cancelled":            "la richiesta %s è stata annullata (Annullata)",
		"searchFailed":         "l'ultima ricerca della richiesta %s non è riuscita: si attende un'altra ricerca",
		"seeHelp":              "%s (vedere '%s -h')",
		"argCount":             "%s richiede %s, ricevuti argomenti: %d",
		"argsNone":             "nessun argomento",
		"argsAuditNone":        "nessun argomento (il periodo è --since e --until)",
		"argsToken":            "un TOKEN",
		"argsHashBatch":        "l'HASH di un servizio (e i richiedenti in --batch DIR)",
		"argsHashApplicant":    "l'HASH di un servizio e un APPLICANT.json",
		"argsID":               "l'ID di una richiesta",
		"argsHash":             "l'HASH di un servizio",
		"batchInterrupted":     "interrotto: si completano le richieste in corso (al massimo per %s), senza avviarne altre\n",
		"batchPaid":            "%s: %s: richiesta %s, %s",
		"batchAlreadyPaid":     "%s: %s: richiesta %s; nulla addebitato ora",
		"batchInvalid":         "%s: %s: %s; non inviata, nulla addebitato",
		"batchBar":             "%s pagate %d, già pagate %d",
		"batchPaidNow":         "pagate ora %d (%s)",
		"batchOf":              "lotto di %d: %s\n",
		"batchUnknownHint":     "quelle con esito ignoto potrebbero essere state addebitate: NON inviarle di nuovo in altro modo; 'visengine recover' le completa (dopo il tempo di assestamento), poi rieseguire questo lotto per vederle pagate",
		"batchFixHint":         "correggere ciò che non è stato pagato e rieseguire lo stesso lotto: i richiedenti già pagati non vengono pagati due volte",
		"batchSkipped":         "interrotto: i richiedenti saltati non sono stati inviati",
		"outcome.paid":         "pagata",
		"outcome.already_paid": "già pagata",
		"outcome.invalid":      "non valida",
		"outcome.key_reused":   "chiave già usata",
		"outcome.refused":      "rifiutata",
		"outcome.failed":       "non riuscita",
		"outcome.unknown":      "esito ignoto",
		"outcome.skipped":      "saltata",
		"count.already_paid":   "già pagate %d",
		"count.invalid":        "non valide %d",
		"count.key_reused":     "chiave già usata %d",
		"count.refused":        "rifiutate %d",
		"count.failed":         "non riuscite %d",
		"count.unknown":        "esito ignoto %d",
		"count.skipped":        "saltate %d",
		"batchNotFolder":       "--batch: %s non è una cartella",
		"batchEmpty":           "--batch: %s non contiene alcun richiedente (*.json)",
		"batchDryRun":          "--dry-run funziona su un solo APPLICANT.json, non con --batch",
		"batchNoJournal":       "--batch richiede il giornale: è ciò che paga ogni richiedente una sola volta tra un'esecuzione e l'altra",
		"batchNoYes":           "--batch paga per ogni richiedente senza chiedere conferma: passare --yes",
		"batchConcurrency":     "--concurrency deve essere tra 1 e %d",
		"batchRate":            "--rate deve essere un numero di richieste al secondo, oppure 0 per nessun limite",
		"batchResultsInside":   "--results indica un file che la prossima esecuzione leggerebbe come un richiedente: scriverlo fuori dalla cartella del lotto, o non come .json",
		"failDraftUnknown":     "%v; nulla è stato addebitato: inviare di nuovo è sicuro",
		"failDraft":            "%v; nulla è stato addebitato",
		"failUnknown":          "%v; la richiesta %s potrebbe essere stata addebitata: NON inviarla di nuovo; %v",
		"failNoClose":          "%v; la richiesta %s è una bozza non pagata: 'visengine resume %s --no-close-sent' la pagherebbe",
		"failClose":            "%v; la richiesta %s resta una bozza non pagata: rimossa la causa, 'visengine resume %s' la paga",
		"hintJournalled":       "dopo il %s, '%s' (o 'visengine recover') la completa",
		"hintNow":              "'%s' la completa",
		"hintAfter":            "dopo il %s, '%s' la completa",
		"callbackNoSecret":     "nota: %s non è impostato: la callback porta un nuovo segreto casuale che nessun destinatario conosce\n",
		"journalOpen":          "il giornale degli invii in %s: %v (impostare %s per usare un'altra cartella)",
		"journalWaiting":       "attesa del giornale degli invii in %s: lo sta usando un altro visengine\n",
		"journalBusy":          "il giornale degli invii in %s: %v",
		"closeSentAtBad":       "--close-sent-at richiede un orario come 2026-03-01T09:00:00Z",
		"resCompleted":         "chiusa: addebitata una volta, non resta nulla da fare",
		"resResumed":           "era ancora una bozza ed è chiusa ora: addebitata una volta",
		"resAbandoned":         "nulla è stato addebitato; inviare di nuovo il richiedente se il documento serve ancora",
		"resPending":           "una chiusura è stata inviata da poco e potrebbe ancora essere applicata: ricontrollare dopo il %s",
		"resFailed":            "il server ha rifiutato di chiuderla; nulla è stato addebitato, la bozza è aperta",
		"resUnknown":           "non si può dimostrare cosa sia successo; nulla è stato chiuso: NON inviare di nuovo",
		"noRichiesta":          "(nessuna richiesta)",
		"nothingToRecover":     "niente da recuperare: ogni invio registrato nel giornale è definito",
		"rowService":           "Servizio\t%s (%s)\n",
		"rowState":             "Stato API\t%s\n",
		"rowPrice":             "Prezzo\t%s",
		"rowPriceBase":         "Prezzo\t%s senza opzioni",
		"rowCreated":           "Creata\t%s\n",
		"rowUpdated":           "Aggiornata\t%s\n",
		"rowDocument":          "Documento\tpronto: visengine download %s\n",
		"rowFile":              "File\t%s\n",
		"noRichieste":          "ancora nessuna richiesta",
		"listHeader":           "ID\tCREATA\tSTATO API\tPREZZO BASE\tSERVIZIO\tSTATO",
		"sinceRequired":        "--since è obbligatorio",
		"flagErr":              "%s: %v",
		"tolerancePositive":    "--tolerance deve essere positivo",
		"badDay":               "%q non è né un giorno (2026-11-01) né un orario RFC 3339",
		"auditPeriod":          "periodo        %s → %s\n",
		"auditCharges":         "addebiti       %d  %s\n",
		"auditSubmissions":     "invii          %d  %s\n",
		"auditRefunds":         "rimborsi       %d  %s\n",
		"auditMatched":         "abbinati       %d\n",
		"auditCharge":          "addebito non spiegato   %s  %s  %s  %s\n",
		"auditSubmission":      "invio non spiegato      %s  %s  %s  rif %s\n",
		"auditUnpriced":        "invio senza prezzo      %s  %s  rif %s: %s\n",
		"auditUnreadable":      "movimento illeggibile   %s\n",
		"auditClean":           "tutto spiegato",
		"notExtracted":         "il documento è stato salvato in %s, ma non estratto: %v",
		"extractStdout":        "--extract richiede un file: non può rileggere \"-o -\"",
		"zipTerminal":          "\"-o -\" stamperebbe uno zip sul terminale: redirigerlo, oppure indicare un file",
		"partialStdout":        "%v; i %d byte già scritti non sono un documento valido: scartarli",
		"saved":                "salvato %s (%d byte)\n",
		"extractedInto":        "estratto in %s:\n",
		"fileBytes":            "  %s\t%d byte\n",
		"noAccount":            "manca l'account: impostare %s e %s all'e-mail e alla API key del proprio account Openapi (dalla console Openapi), oppure provare 'visengine fake', un server finto locale",
		"tokenCreated":         "creato un token con ambiti: %d, scade il %s\n",
		"noTokens":             "nessun token",
		"tokensHeader":         "TOKEN\tNOME\tSCADENZA\tAMBITI",
		"revoked":              "revocato %s\n",
		"credit":               "credito %s\n",
		"pricesUnread":         "non è stato possibile leggere il prezzo di %d servizi su %d (indicato con ?); il primo errore: %v",
		"catalogueHeader":      "HASH\tCATEGORIA\tNOME",
		"cataloguePrice":       "\tPREZZO",
		"notOption":            "--opzioni: %q non è un'opzione di %s; %v",
		"offersNone":           "non offre opzioni",
		"offers":               "offre: %s",
		"showHash":             "Hash %s, categoria %s\n",
		"showSearch":           "Inizia con una ricerca; scegliere un risultato costa %s in più\n",
		"showFields":           "\nCampi, nell'ordine di visualizzazione:",
		"showHeader":           "  CHIAVE\tNOME\tTIPO\tNECESSITÀ\tISTRUZIONI",
		"need.required":        "obbligatorio",
		"need.one-of":          "uno tra",
		"need.optional":        "facoltativo",
		"need.?":               "?",
		"showPrice":            "\nPrezzo %s",
		"showWith":             ", con %s (%s) %s",
		"showAll":              ", con tutte le opzioni %s",
		"showInstructions":     "\nIstruzioni:\n%s\n",
		"ruleLine":             "\nRegola: %s\n",
		"ruleUnchecked":        "  Non si può verificare qui (%s): sarà il server a stabilire quali campi servono.\n",
		"ruleRequired":         "  Sempre obbligatori: %s\n",
		"ruleWays":             "  Modi per soddisfarla, ciascuno da completare per intero:",
		"ruleMore":             "  (esistono altri modi, troppi da elencare)",
		"ruleOptional":         "  Facoltativi: %s\n",
		"lineErr":              "%s:%d: %s: %v",
		"applicantFile":        "%s: il file del richiedente %v",
		"notAField":            "%s:%d: %s non è un campo di questo servizio: usare una chiave ($N) o un nome come li elenca 'visengine show %s'; i suoi campi, dal più simile: %s",
		"theKey":               "la chiave",
		"givenTwice":           "%s:%d: %s è indicato due volte (anche alla riga %d)",
		"notObject":            "non è un oggetto JSON: scrivere {\"$0\": \"…\", \"CODICE FISCALE\": \"…\", \"COPIA …\": \"@scan.pdf\"}",
		"notString":            "riga %d: un valore deve essere una stringa JSON (mettere i numeri tra virgolette: lo 0 o il + iniziale di un telefono andrebbe perso)",
		"moreAfter":            "riga %d: altro testo dopo l'oggetto",
		"badJSON":              "riga %d: JSON non valido",
		"shortJSON":            "il JSON finisce troppo presto: manca una parentesi graffa o una virgoletta?",
		"atNoFile":             "\"@\" non indica alcun file",
		"atOutside":            "il suo file \"@\" non è dentro la cartella del richiedente: indicarlo relativo al file JSON, senza \"..\" né \"/\" iniziale",
		"folderUnreadable":     "la sua cartella non si può leggere: %v",
		"itsFile":              "il suo file %v",
		"notScan":              "il suo file non è un PDF, JPEG o PNG (il contenuto sembra %s)",
		"fileUnreadable":       "il suo file non si può leggere: %v",
		"symlinkOut":           "il suo file \"@\" è un collegamento simbolico (o sta in una cartella che lo è) che porta fuori dalla cartella del richiedente: copiare invece il file nella cartella",
		"isFolder":             "è una cartella",
		"notRegular":           "non è un file regolare (un dispositivo, una pipe o un socket): copiarne il contenuto in un file",
		"tooBig":               "ha %d byte, oltre i %d consentiti",
		"grewTooBig":           "ha più dei %d byte consentiti",
		"cannotRead":           "non si può leggere: %v",
		"tokenGeneric":         "VISENGINE_TOKEN è errato o scaduto (con OPENAPI_EMAIL e OPENAPI_APIKEY impostati, questo comando dice quale dei due; un token sandbox funziona solo con --sandbox, e VISENGINE_URL prevale su entrambi)",
		"tokenNotFound":        "VISENGINE_TOKEN non è un token di questo account (errato o revocato): 'visengine token list' mostra quelli validi, 'visengine token create' ne crea uno",
		"tokenExpired":         "VISENGINE_TOKEN è scaduto il %s: 'visengine token create' ne crea uno nuovo",
		"tokenLive":            "VISENGINE_TOKEN è un token valido di questo account, eppure il server l'ha rifiutato: controllare VISENGINE_URL e --sandbox",
		"noScheme":             "%s non ha lo schema: scrivere http:// (in locale, ad es. http://127.0.0.1:8080) o https:// prima dell'host",
		"noLocalAppData":       "%%LocalAppData%% non è impostato: impostare %s a una cartella per il giornale degli invii",
		"noHome":               "manca la cartella home: impostare %s o XDG_STATE_HOME a una cartella per il giornale degli invii",
		"keyLength":            "il nome del file, che è la chiave di idempotenza, deve avere da 1 a 255 caratteri prima di .json",
		"keyASCII":             "il nome del file, che è la chiave di idempotenza, deve essere in ASCII stampabile (lettere, cifre, - _ . e spazi): rinominare il file",
		"problemCount":         "problemi: %d",
		"paidByJournal":        "pagata (lo dice il giornale), ma non riletta: %v",
		"unknownByJournal":     "%v; la richiesta %s potrebbe essere stata addebitata (è stata inviata una chiusura): NON inviarla di nuovo; 'visengine recover' la completa appena il suo stato si potrà leggere",
		"keyReused":            "la sua chiave è già stata inviata con altri valori o opzioni (il file è stato modificato dopo il pagamento?); non è stato inviato nulla",
		"skippedInterrupted":   "non inviata: il lotto è stato interrotto",
		"short.token":          "Creare, elencare e revocare i token Visengine dell'account",
		"short.token create":   "Creare un token con gli ambiti di Visengine e stamparlo",
		"short.token list":     "Elencare i token dell'account, con i valori mascherati",
		"short.token revoke":   "Revocare un token: smette subito di funzionare",
		"short.wallet":         "Mostrare il credito dell'account, da cui si pagano le richieste",
		"short.audit":          "Spiegare ogni addebito Visengine nei movimenti del portafoglio con il giornale degli invii",
		"short.catalogue":      "Elencare i servizi: hash, categoria, nome, prezzo",
		"short.download":       "Salvare il documento di una richiesta (uno zip), volendo estratto",
		"short.fake":           "Avviare un Visengine finto su questa macchina, per provare tutto gratis",
		"short.visengine":      "Visengine 2.0 di Openapi dal terminale: catalogo, validazione, invio, documenti",
		"short.resume":         "Completare un invio la cui chiusura pagata ha un esito ignoto",
		"short.recover":        "Completare o segnalare ogni invio lasciato a metà da un crash",
		"short.status":         "Mostrare una richiesta: stato, avanzamento, prezzo, file",
		"short.list":           "Elencare le richieste dell'account, dalla più vecchia",
		"short.show":           "Mostrare campi, regola, opzioni e prezzi di un servizio",
		"short.submit":         "Validare, prezzare, confermare e pagare una richiesta",
		"short.validate":       "Controllare un richiedente in locale, prima di pagare",
		"short.wait":           "Seguire una richiesta fino alla fine, mostrando ogni cambio di stato",
		"barBytes":             "\r%d byte",
		"barPercent":           "\r[%s%s] %3d%%  %d/%d byte",
		"jsonCommands":         "--json (un oggetto JSON per i programmi invece del testo) con: %s.",
	},
}

// say returns the sentence code in lang, English when lang has none.
func say(lang visengine.Lang, code string) string {
	if s, ok := cliText[lang][code]; ok {
		return s
	}
	return cliText[visengine.English][code]
}

// msgError is an error whose text comes from cliText: Error is English,
// report prints it in the user's language. Arguments that are errors are
// wrapped (errors.Is sees them) and rendered in the same language when the
// tables know them.
type msgError struct {
	code string
	args []any
}

// textKey is an argument of msgErr that is itself a sentence of cliText.
type textKey string

func (e *msgError) Error() string { return e.render(visengine.English, false) }

func (e *msgError) in(lang visengine.Lang) string { return e.render(lang, true) }

// render formats the sentence in lang; deep renders the wrapped errors in
// lang too (Error keeps their own text).
func (e *msgError) render(lang visengine.Lang, deep bool) string {
	args := make([]any, len(e.args))
	for i, arg := range e.args {
		args[i] = arg
		switch a := arg.(type) {
		case textKey:
			args[i] = say(lang, string(a))
		case error:
			if deep {
				args[i] = plainIn(a, lang)
			}
		}
	}
	return fmt.Sprintf(say(lang, e.code), args...)
}

// Unwrap returns the errors among the arguments.
func (e *msgError) Unwrap() []error {
	var errs []error
	for _, arg := range e.args {
		if err, ok := arg.(error); ok {
			errs = append(errs, err)
		}
	}
	return errs
}

func msgErr(code string, args ...any) error { return &msgError{code: code, args: args} }

// localized renders err in lang when it is one of the errors the tables
// know, alone, under an exit code or a usage error, or wrapped without more
// text; ok is false otherwise, and report prints the English text.
func localized(err error, lang visengine.Lang) (string, bool) {
	var me *msgError
	var ve *visengine.ValidationError
	switch e := err.(type) {
	case *msgError:
		return e.in(lang), true
	case *codeError:
		if e.err != nil {
			return localized(e.err, lang)
		}
	case *tokenError:
		return plainIn(e.err, lang) + "; " + plainIn(e.verdict, lang), true
	case *usageError:
		if s, ok := localized(e.err, lang); ok {
			return fmt.Sprintf(say(lang, "seeHelp"), s, e.cmd), true
		}
		return "", false
	}
	switch {
	case err == context.Canceled:
		return say(lang, "interrupted"), true
	case errors.As(err, &me) && err.Error() == me.Error():
		return me.in(lang), true
	case errors.As(err, &ve) && err.Error() == ve.Error():
		return strings.TrimPrefix(ve.Message(lang), "visengine: "), true
	}
	return "", false
}

// langValue is the --lang flag: it or en, anything else a usage error.
type langValue struct {
	lang visengine.Lang
	set  bool
}

func (l *langValue) String() string { return string(l.lang) }
func (l *langValue) Type() string   { return "it|en" }

func (l *langValue) Set(s string) error {
	lang, ok := visengine.ParseLang(s)
	if !ok {
		return fmt.Errorf("unknown language %q: want it or en", s)
	}
	l.lang, l.set = lang, true
	return nil
}

// language is the messages' language: --lang, else the locale.
func (a *app) language() visengine.Lang {
	if a.lang.set {
		return a.lang.lang
	}
	return langFromEnv(os.Getenv)
}

// langFromEnv reads the locale as POSIX does: the first of LC_ALL,
// LC_MESSAGES and LANG that is set decides; Italian or English, English
// for any other language (and for C or POSIX).
func langFromEnv(getenv func(string) string) visengine.Lang {
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := getenv(name); v != "" {
			if lang, ok := visengine.ParseLang(v); ok {
				return lang
			}
			return visengine.English
		}
	}
	return visengine.English
}

// langOfArgs is the language a command line asks for, before cobra parses
// it: for the final error line, printed after the command has ended.
func langOfArgs(args []string, getenv func(string) string) visengine.Lang {
	for i, arg := range args {
		if arg == "--" {
			break
		}
		v, ok := strings.CutPrefix(arg, "--lang=")
		if !ok && arg == "--lang" && i+1 < len(args) {
			v, ok = args[i+1], true
		}
		if lang, known := visengine.ParseLang(v); ok && known {
			return lang
		}
	}
	return langFromEnv(getenv)
}

// annotEnglishLong keeps a command's English Long help in its annotations.
const annotEnglishLong = "visengine/long-en"

// localizeHelp sets the Short help of cmd and every command under it from
// cliText ("short." and the path without "visengine "), in lang, and the
// Long help from longIt where it has one (the English one kept aside, for
// a second call in another language).
func localizeHelp(cmd *cobra.Command, lang visengine.Lang) {
	cmd.Short = say(lang, helpCode(cmd))
	if _, done := cmd.Annotations[annotEnglishLong]; !done {
		if cmd.Annotations == nil {
			cmd.Annotations = map[string]string{}
		}
		cmd.Annotations[annotEnglishLong] = cmd.Long
	}
	cmd.Long = cmd.Annotations[annotEnglishLong]
	if it, ok := longIt[strings.TrimPrefix(helpCode(cmd), "short.")]; ok && lang == visengine.Italian {
		cmd.Long = it
	}
	if !cmd.HasParent() { // the root lists the commands that take --json
		cmd.Long += "\n\n" + jsonCommands(cmd, lang)
	}
	for _, c := range cmd.Commands() {
		localizeHelp(c, lang)
	}
}

// helpCode is the cliText code of cmd's Short help.
func helpCode(cmd *cobra.Command) string {
	if !cmd.HasParent() {
		return "short." + cmd.Name()
	}
	return "short." + strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}
