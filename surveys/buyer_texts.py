"""Customer-facing interface text of the public survey page, survey emails and unsubscribe page.

These strings are shown to a store's customers in the survey's language, which need not be the
language of the person using the product, so they live here per language rather than in the
gettext catalogues. Placeholders: {current}, {total}, {limit} and {store}, filled by text().
"""

from __future__ import annotations

import re

from django.conf import settings

LANGUAGES = tuple(code for code, _name in settings.LANGUAGES)  # every text has each of them
FALLBACK_LANGUAGE = "en"

PUBLIC_TEXT: dict[str, dict[str, str]] = {
    "page_title": {
        "en": "Your opinion",
        "lt": "Jūsų nuomonė",
        "lv": "Jūsu viedoklis",
        "et": "Teie arvamus",
        "cs": "Váš názor",
        "ro": "Părerea dumneavoastră",
    },
    "progress": {
        "en": "Question {current} of {total}",
        "lt": "Klausimas {current} iš {total}",
        "lv": "{current}. jautājums no {total}",
        "et": "Küsimus {current}/{total}",
        "cs": "Otázka {current} z {total}",
        "ro": "Întrebarea {current} din {total}",
    },
    "next": {
        "en": "Next",
        "lt": "Toliau",
        "lv": "Tālāk",
        "et": "Edasi",
        "cs": "Další",
        "ro": "Continuă",
    },
    "back": {
        "en": "Back",
        "lt": "Atgal",
        "lv": "Atpakaļ",
        "et": "Tagasi",
        "cs": "Zpět",
        "ro": "Înapoi",
    },
    "submit": {
        "en": "Send",
        "lt": "Siųsti",
        "lv": "Nosūtīt",
        "et": "Saada",
        "cs": "Odeslat",
        "ro": "Trimite",
    },
    "optional": {
        "en": "Optional",
        "lt": "Neprivaloma",
        "lv": "Nav obligāti",
        "et": "Valikuline",
        "cs": "Nepovinné",
        "ro": "Opțional",
    },
    "required_error": {
        "en": "Please answer this question.",
        "lt": "Prašome atsakyti į šį klausimą.",
        "lv": "Lūdzu, atbildiet uz šo jautājumu.",
        "et": "Palun vastake sellele küsimusele.",
        "cs": "Odpovězte prosím na tuto otázku.",
        "ro": "Vă rugăm să răspundeți la această întrebare.",
    },
    "invalid_error": {
        "en": "Please choose one of the options.",
        "lt": "Prašome pasirinkti vieną iš galimų atsakymų.",
        "lv": "Lūdzu, izvēlieties vienu no piedāvātajiem variantiem.",
        "et": "Palun valige üks pakutud vastusevariantidest.",
        "cs": "Vyberte prosím jednu z nabízených možností.",
        "ro": "Vă rugăm să alegeți una dintre variantele de răspuns.",
    },
    "too_long_error": {
        "en": "Please use at most {limit} characters.",
        "lt": "Prašome neviršyti {limit} simbolių.",
        "lv": "Lūdzu, saīsiniet tekstu līdz {limit} rakstzīmēm.",
        "et": "Palun lühendage teksti – lubatud on kuni {limit} tähemärki.",
        "cs": "Zkraťte prosím text nejvýše na {limit} znaků.",
        "ro": "Vă rugăm să scurtați textul: numărul maxim de caractere este {limit}.",
    },
    "language_label": {
        "en": "Language",
        "lt": "Kalba",
        "lv": "Valoda",
        "et": "Keel",
        "cs": "Jazyk",
        "ro": "Limba",
    },
    "scale_nps_low": {
        "en": "Not at all likely",
        "lt": "Visiškai netikėtina",
        "lv": "Nemaz nav ticams",
        "et": "Üldse mitte tõenäoline",
        "cs": "Vůbec nepravděpodobné",
        "ro": "Deloc probabil",
    },
    "scale_nps_high": {
        "en": "Extremely likely",
        "lt": "Labai tikėtina",
        "lv": "Ļoti ticams",
        "et": "Väga tõenäoline",
        "cs": "Velmi pravděpodobné",
        "ro": "Foarte probabil",
    },
    "scale_rating_low": {
        "en": "Very dissatisfied",
        "lt": "Labai nepatenkinti",
        "lv": "Ļoti neapmierināti",
        "et": "Üldse mitte rahul",
        "cs": "Velmi nespokojeni",
        "ro": "Foarte nemulțumiți",
    },
    "scale_rating_high": {
        "en": "Very satisfied",
        "lt": "Labai patenkinti",
        "lv": "Ļoti apmierināti",
        "et": "Väga rahul",
        "cs": "Velmi spokojeni",
        "ro": "Foarte mulțumiți",
    },
    "scale_ces_low": {
        "en": "Very difficult",
        "lt": "Labai sunku",
        "lv": "Ļoti grūti",
        "et": "Väga keeruline",
        "cs": "Velmi obtížné",
        "ro": "Foarte dificil",
    },
    "scale_ces_high": {
        "en": "Very easy",
        "lt": "Labai lengva",
        "lv": "Ļoti viegli",
        "et": "Väga lihtne",
        "cs": "Velmi snadné",
        "ro": "Foarte ușor",
    },
    "your_answer": {
        "en": "Your answer",
        "lt": "Jūsų atsakymas",
        "lv": "Jūsu atbilde",
        "et": "Teie vastus",
        "cs": "Vaše odpověď",
        "ro": "Răspunsul dumneavoastră",
    },
    "thank_you_title": {
        "en": "Thank you!",
        "lt": "Dėkojame!",
        "lv": "Paldies!",
        "et": "Aitäh!",
        "cs": "Děkujeme!",
        "ro": "Vă mulțumim!",
    },
    "already_answered": {
        "en": "You have already answered this survey. Thank you!",
        "lt": "Į šią apklausą jau atsakėte. Dėkojame!",
        "lv": "Jūsu atbildes uz šo aptauju jau ir saņemtas. Paldies!",
        "et": "Olete sellele küsitlusele juba vastanud. Aitäh!",
        "cs": "Tento dotazník jste již vyplnili. Děkujeme!",
        "ro": "Ați răspuns deja la acest chestionar. Vă mulțumim!",
    },
    "not_found_title": {
        "en": "This survey link does not work",
        "lt": "Ši apklausos nuoroda neveikia",
        "lv": "Šī aptaujas saite nedarbojas",
        "et": "See küsitluse link ei tööta",
        "cs": "Tento odkaz na dotazník nefunguje",
        "ro": "Acest link către chestionar nu funcționează",
    },
    "not_found_text": {
        "en": "It may have expired or been mistyped. You do not need to do anything.",
        "lt": (
            "Galbūt baigėsi jos galiojimas arba ji buvo įvesta su klaida. "
            "Jums nieko daryti nereikia."
        ),
        "lv": (
            "Iespējams, tās derīguma termiņš ir beidzies vai tā ir ievadīta kļūdaini. "
            "Jums nekas nav jādara."
        ),
        "et": "Link võib olla aegunud või valesti sisestatud. Teil ei ole vaja midagi teha.",
        "cs": "Možná už vypršela jeho platnost nebo byl zadán s chybou. Nemusíte nic dělat.",
        "ro": "Este posibil să fi expirat sau să fi fost scris greșit. Nu trebuie să faceți nimic.",
    },
    "closed_text": {
        "en": "This survey is closed. Thank you for your time.",
        "lt": "Ši apklausa jau baigta. Dėkojame už skirtą laiką.",
        "lv": "Šī aptauja ir slēgta. Paldies par veltīto laiku.",
        "et": "See küsitlus on lõppenud. Aitäh, et leidsite aega!",
        "cs": "Tento dotazník je již uzavřen. Děkujeme za váš čas.",
        "ro": "Acest chestionar s-a încheiat. Vă mulțumim pentru timpul acordat.",
    },
    "email_cta": {
        "en": "Choose a score to open the survey:",
        "lt": "Pasirinkite įvertinimą – atsivers apklausa:",
        "lv": "Izvēlieties vērtējumu, lai atvērtu aptauju:",
        "et": "Valige hinnang, et küsitlus avada:",
        "cs": "Kliknutím na hodnocení otevřete dotazník:",
        "ro": "Alegeți o notă pentru a deschide chestionarul:",
    },
    "email_open_link": {
        "en": "Or open the survey",
        "lt": "Arba atidarykite apklausą",
        "lv": "Vai arī atveriet aptauju",
        "et": "Või avage küsitlus",
        "cs": "Nebo otevřete dotazník",
        "ro": "Sau deschideți chestionarul",
    },
    "email_footer": {
        "en": "You are receiving this email because you bought from {store}.",
        "lt": "Šį laišką gavote, nes pirkote parduotuvėje {store}.",
        "lv": "Jūs saņemat šo e-pastu, jo iepirkāties veikalā {store}.",
        "et": "Saite selle kirja, sest ostsite {store} e-poest.",
        "cs": "Tento e-mail dostáváte, protože jste nakoupili v obchodě {store}.",
        "ro": "Primiți acest e-mail deoarece ați cumpărat de la {store}.",
    },
    "unsubscribe_link": {
        "en": "Unsubscribe from surveys",
        "lt": "Atsisakyti apklausų",
        "lv": "Atteikties no aptaujām",
        "et": "Keeldu küsitlustest",
        "cs": "Odhlásit odběr dotazníků",
        "ro": "Dezabonare de la chestionare",
    },
    "unsubscribe_title": {
        "en": "Unsubscribe from surveys",
        "lt": "Apklausų atsisakymas",
        "lv": "Atteikšanās no aptaujām",
        "et": "Küsitlustest keeldumine",
        "cs": "Odhlášení odběru dotazníků",
        "ro": "Dezabonare de la chestionare",
    },
    "unsubscribe_text": {
        "en": "Stop receiving satisfaction surveys from {store}?",
        "lt": "Ar nebenorite gauti parduotuvės {store} klientų pasitenkinimo apklausų?",
        "lv": "Vai vairs nevēlaties saņemt klientu apmierinātības aptaujas no veikala {store}?",
        "et": "Kas soovite, et {store} e-pood ei saadaks Teile enam rahuloluküsitlusi?",
        "cs": "Už nechcete dostávat dotazníky spokojenosti od obchodu {store}?",
        "ro": "Nu mai doriți să primiți chestionare de satisfacție de la {store}?",
    },
    "unsubscribe_button": {
        "en": "Unsubscribe",
        "lt": "Atsisakyti",
        "lv": "Atteikties",
        "et": "Keeldu küsitlustest",
        "cs": "Odhlásit odběr",
        "ro": "Dezabonare",
    },
    "unsubscribed_text": {
        "en": "You have unsubscribed. {store} will not send you surveys any more.",
        "lt": "Jūs atsisakėte apklausų. Parduotuvė {store} Jums jų nebesiųs.",
        "lv": "Jūs esat atteikušies no aptaujām. Veikals {store} Jums tās vairs nesūtīs.",
        "et": "Olete küsitlustest keeldunud. {store} e-pood ei saada Teile enam küsitlusi.",
        "cs": "Odhlásili jste se z odběru dotazníků. Obchod {store} vám je už nebude posílat.",
        "ro": "V-ați dezabonat. {store} nu vă va mai trimite chestionare.",
    },
    "saved": {
        "en": "Your answers are saved.",
        "lt": "Jūsų atsakymai išsaugoti.",
        "lv": "Jūsu atbildes ir saglabātas.",
        "et": "Teie vastused on salvestatud.",
        "cs": "Vaše odpovědi jsou uloženy.",
        "ro": "Răspunsurile dumneavoastră au fost salvate.",
    },
    "skip_to_content": {
        "en": "Skip to content",
        "lt": "Pereiti prie turinio",
        "lv": "Pāriet uz saturu",
        "et": "Liigu sisu juurde",
        "cs": "Přejít na obsah",
        "ro": "Salt la conținut",
    },
    "too_many_requests_title": {
        "en": "Too many attempts",
        "lt": "Per daug bandymų",
        "lv": "Pārāk daudz mēģinājumu",
        "et": "Liiga palju katseid",
        "cs": "Příliš mnoho pokusů",
        "ro": "Prea multe încercări",
    },
    "too_many_requests_text": {
        "en": "Please wait a minute and try again.",
        "lt": "Palaukite minutę ir bandykite dar kartą.",
        "lv": "Lūdzu, uzgaidiet minūti un mēģiniet vēlreiz.",
        "et": "Palun oodake minut ja proovige uuesti.",
        "cs": "Počkejte prosím minutu a zkuste to znovu.",
        "ro": "Vă rugăm să așteptați un minut și să încercați din nou.",
    },
    # Only on the 429 page of a link whose response has saved answers.
    "saved_so_far": {
        "en": "The answers you have given so far are saved.",
        "lt": "Iki šiol pateikti Jūsų atsakymai išsaugoti.",
        "lv": "Līdz šim sniegtās atbildes ir saglabātas.",
        "et": "Teie senised vastused on salvestatud.",
        "cs": "Vaše dosavadní odpovědi jsou uloženy.",
        "ro": "Răspunsurile date până acum au fost salvate.",
    },
    # The error pages under /s/ (surveys/public_views.py): a path under a valid link that
    # is no page (404), a server error (500), a refused form (CSRF, 403).
    "back_to_survey": {
        "en": "Back to the survey",
        "lt": "Grįžti į apklausą",
        "lv": "Atgriezties aptaujā",
        "et": "Tagasi küsitlusse",
        "cs": "Zpět k dotazníku",
        "ro": "Înapoi la chestionar",
    },
    "page_not_found_title": {
        "en": "This page does not exist",
        "lt": "Tokio puslapio nėra",
        "lv": "Šāda lapa nepastāv",
        "et": "Sellist lehte ei ole",
        "cs": "Tato stránka neexistuje",
        "ro": "Această pagină nu există",
    },
    "page_not_found_text": {
        "en": "The address may have been mistyped.",
        "lt": "Galbūt adresas įvestas su klaida.",
        "lv": "Iespējams, adrese ir ievadīta kļūdaini.",
        "et": "Aadress võib olla valesti sisestatud.",
        "cs": "Adresa byla možná zadána s chybou.",
        "ro": "Este posibil ca adresa să fi fost scrisă greșit.",
    },
    "server_error_title": {
        "en": "Something went wrong",
        "lt": "Įvyko klaida",
        "lv": "Radās kļūda",
        "et": "Midagi läks valesti",
        "cs": "Něco se pokazilo",
        "ro": "A apărut o eroare",
    },
    "server_error_text": {
        "en": "The error is on our side. Please try again in a few minutes.",
        "lt": "Klaida įvyko mūsų pusėje. Bandykite dar kartą po kelių minučių.",
        "lv": "Kļūda radās mūsu pusē. Lūdzu, mēģiniet vēlreiz pēc dažām minūtēm.",
        "et": "Viga on meie poolel. Palun proovige mõne minuti pärast uuesti.",
        "cs": "Chyba je na naší straně. Zkuste to prosím znovu za několik minut.",
        "ro": "Eroarea este de partea noastră. Vă rugăm să încercați din nou peste câteva minute.",
    },
    "csrf_failure_title": {
        "en": "This page was open too long",
        "lt": "Šis puslapis buvo atidarytas per ilgai",
        "lv": "Šī lapa bija atvērta pārāk ilgi",
        "et": "See leht oli liiga kaua avatud",
        "cs": "Tato stránka byla otevřená příliš dlouho",
        "ro": "Această pagină a fost deschisă prea mult timp",
    },
    "csrf_failure_text": {
        "en": "Your last answer was not saved. Please open the survey again and answer once more.",
        "lt": (
            "Paskutinis Jūsų atsakymas neišsaugotas. "
            "Atidarykite apklausą iš naujo ir atsakykite dar kartą."
        ),
        "lv": (
            "Jūsu pēdējā atbilde netika saglabāta. "
            "Lūdzu, atveriet aptauju no jauna un atbildiet vēlreiz."
        ),
        "et": (
            "Teie viimast vastust ei salvestatud. Palun avage küsitlus uuesti ja vastake veel kord."
        ),
        "cs": (
            "Vaše poslední odpověď nebyla uložena. "
            "Otevřete prosím dotazník znovu a odpovězte ještě jednou."
        ),
        "ro": (
            "Ultimul dumneavoastră răspuns nu a fost salvat. "
            "Vă rugăm să redeschideți chestionarul și să răspundeți din nou."
        ),
    },
    "reminder_subject_prefix": {
        "en": "Reminder: ",
        "lt": "Priminimas: ",
        "lv": "Atgādinājums: ",
        "et": "Meeldetuletus: ",
        "cs": "Připomínka: ",
        "ro": "Reamintire: ",
    },
}

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def text(key: str, language: str, **values: str) -> str:
    """The text for key in language (English when the language is unknown), filled in.

    Only the named placeholders are replaced, in one pass over the stored text: a value is
    inserted verbatim and never scanned again, so a store called "A{b}c" or "{total}" stays as
    it is. Placeholders without a value are left in place. An unknown key raises KeyError.
    """
    texts = PUBLIC_TEXT[key]
    return fill(texts.get(language) or texts[FALLBACK_LANGUAGE], **values)


def fill(template: str, **values: str) -> str:
    """Replace the named placeholders of any template (also an admin's survey texts) in one
    pass; each value is inserted verbatim. Placeholders without a value are left in place."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(values[name]) if name in values else match.group(0)

    return _PLACEHOLDER.sub(value, template)
