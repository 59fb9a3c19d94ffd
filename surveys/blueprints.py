"""Survey templates ("blueprints") offered in the survey builder.

Every customer-facing text is given in all six survey languages as {language: text}; choice
lists are {language: [choice, ...]} with the same number of choices in every language, because
answers store the choice's index. The only placeholder anywhere is {store}, the store's name.

The first question of each template is its headline scale question (CSAT: rating 1–5, NPS:
0–10, CES: 1–7): survey emails embed it as clickable scores.

Address is formal throughout. Lithuanian, Latvian and Estonian capitalise the polite pronoun
(Jūs, Jūsų / Jūs, Jūsu, Jums / Teie, Teile), as is usual in a store's letters to a customer;
Czech writes "vy, váš" in lower case, as the Czech language manual recommends for
questionnaires addressed to many people; Romanian uses "dumneavoastră".
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

TEMPLATES: dict[str, dict[str, Any]] = {
    "post-purchase-csat": {
        "label": _("Post-purchase satisfaction (CSAT)"),
        "description": _("Asks buyers a day after their order how satisfied they are with it."),
        "kind": "csat",
        "moment": "SMOT",
        "trigger_event": "purchase",
        "delay_hours": 24,
        "reminder_after_days": 3,
        "name": {
            "en": "Post-purchase satisfaction",
            "lt": "Pasitenkinimas apsipirkimu",
            "lv": "Apmierinātība ar iepirkšanos",
            "et": "Rahulolu ostuga",
            "cs": "Spokojenost s nákupem",
            "ro": "Satisfacția după cumpărare",
        },
        "email_subject": {
            "en": "How was shopping at {store}?",
            "lt": "Kaip vertinate apsipirkimą parduotuvėje {store}?",
            "lv": "Kā Jums patika iepirkties veikalā {store}?",
            "et": "Kuidas Teile meeldis {store} e-poes osta?",
            "cs": "Jak se vám nakupovalo v obchodě {store}?",
            "ro": "Cum a fost experiența de cumpărături la {store}?",
        },
        "email_intro": {
            "en": (
                "Thank you for shopping at {store}. "
                "Please answer a few short questions – it takes less than a minute."
            ),
            "lt": (
                "Dėkojame, kad apsipirkote parduotuvėje {store}. "
                "Prašome atsakyti į kelis trumpus klausimus – tai užtruks mažiau nei minutę."
            ),
            "lv": (
                "Paldies, ka iepirkāties veikalā {store}. "
                "Lūdzu, atbildiet uz dažiem īsiem jautājumiem – tas aizņems mazāk nekā minūti."
            ),
            "et": (
                "Täname, et ostsite {store} e-poest! "
                "Palun vastake mõnele lühikesele küsimusele – see võtab vähem kui minuti."
            ),
            "cs": (
                "Děkujeme za nákup v obchodě {store}. "
                "Odpovězte nám prosím na pár krátkých otázek – zabere to méně než minutu."
            ),
            "ro": (
                "Vă mulțumim că ați cumpărat de la {store}. "
                "Vă rugăm să răspundeți la câteva întrebări scurte – durează mai puțin de un minut."
            ),
        },
        "thank_you": {
            "en": "Thank you for your answers! They will help us get better.",
            "lt": "Dėkojame už atsakymus! Jie padės mums tobulėti.",
            "lv": "Paldies par atbildēm! Tās palīdzēs mums kļūt labākiem.",
            "et": "Aitäh vastuste eest! Need aitavad meil paremaks saada.",
            "cs": "Děkujeme za odpovědi! Pomohou nám se zlepšovat.",
            "ro": "Vă mulțumim pentru răspunsuri! Ne vor ajuta să devenim mai buni.",
        },
        "questions": [
            {
                "type": "rating",
                "required": True,
                "text": {
                    "en": "How satisfied are you with your shopping experience at our store?",
                    "lt": "Kiek esate patenkinti apsipirkimu mūsų parduotuvėje?",
                    "lv": "Cik lielā mērā Jūs apmierināja iepirkšanās mūsu veikalā?",
                    "et": "Kui rahul olete meie e-poes ostlemisega?",
                    "cs": "Jak jste spokojeni s nákupem u nás?",
                    "ro": (
                        "Cât de mulțumiți sunteți de experiența de cumpărături în magazinul nostru?"
                    ),
                },
                "choices": {},
            },
            {
                "type": "multiple_choice",
                "required": False,
                "text": {
                    "en": "What could we do better?",
                    "lt": "Ką galėtume daryti geriau?",
                    "lv": "Ko mēs varētu darīt labāk?",
                    "et": "Mida võiksime paremini teha?",
                    "cs": "Co bychom mohli dělat lépe?",
                    "ro": "Ce am putea face mai bine?",
                },
                "choices": {
                    "en": [
                        "Finding the right product",
                        "Product information",
                        "Prices",
                        "Payment methods",
                        "Delivery options",
                        "Other",
                    ],
                    "lt": [
                        "Tinkamos prekės paieška",
                        "Informacija apie prekes",
                        "Kainos",
                        "Apmokėjimo būdai",
                        "Pristatymo būdai",
                        "Kita",
                    ],
                    "lv": [
                        "Piemērotas preces atrašana",
                        "Informācija par precēm",
                        "Cenas",
                        "Apmaksas veidi",
                        "Piegādes veidi",
                        "Cits",
                    ],
                    "et": [
                        "Sobiva toote leidmine",
                        "Tooteinfo",
                        "Hinnad",
                        "Makseviisid",
                        "Tarneviisid",
                        "Muu",
                    ],
                    "cs": [
                        "Hledání vhodného zboží",
                        "Informace o zboží",
                        "Ceny",
                        "Způsoby platby",
                        "Způsoby doručení",
                        "Jiné",
                    ],
                    "ro": [
                        "Găsirea produsului potrivit",
                        "Informațiile despre produse",
                        "Prețurile",
                        "Metodele de plată",
                        "Opțiunile de livrare",
                        "Altceva",
                    ],
                },
            },
            {
                "type": "free_text",
                "required": False,
                "text": {
                    "en": "Is there anything else you would like to tell us?",
                    "lt": "Ar norėtumėte mums dar ką nors pasakyti?",
                    "lv": "Vai vēlaties vēl ko piebilst?",
                    "et": "Kas soovite veel midagi lisada?",
                    "cs": "Chcete nám ještě něco sdělit?",
                    "ro": "Mai doriți să ne spuneți ceva?",
                },
                "choices": {},
            },
        ],
    },
    "delivery-experience": {
        "label": _("Delivery experience (CSAT)"),
        "description": _("Asks customers a day after delivery how satisfied they are with it."),
        "kind": "csat",
        "moment": "TMOT",
        "trigger_event": "delivered",
        "delay_hours": 24,
        "reminder_after_days": 3,
        "name": {
            "en": "Delivery experience",
            "lt": "Pristatymo patirtis",
            "lv": "Piegādes pieredze",
            "et": "Tarnekogemus",
            "cs": "Zkušenost s doručením",
            "ro": "Experiența de livrare",
        },
        "email_subject": {
            "en": "How did the delivery of your order go?",
            "lt": "Kaip vertinate užsakymo pristatymą?",
            "lv": "Kā Jūs vērtējat pasūtījuma piegādi?",
            "et": "Kuidas hindate oma tellimuse kohaletoimetamist?",
            "cs": "Jak proběhlo doručení vaší objednávky?",
            "ro": "Cum a decurs livrarea comenzii dumneavoastră?",
        },
        "email_intro": {
            "en": (
                "Your order from {store} has been delivered. "
                "Please rate the delivery – it only takes a minute."
            ),
            "lt": (
                "Jūsų užsakymas iš parduotuvės {store} jau pristatytas. "
                "Prašome įvertinti pristatymą – tai užtruks vos minutę."
            ),
            "lv": (
                "Jūsu pasūtījums no veikala {store} ir piegādāts. "
                "Lūdzu, novērtējiet piegādi – tas aizņems tikai minūti."
            ),
            "et": (
                "Teie tellimus {store} e-poest on kohale toimetatud. "
                "Palun hinnake tarnet – see võtab vaid minuti."
            ),
            "cs": (
                "Vaše objednávka z obchodu {store} byla doručena. "
                "Ohodnoťte nám prosím doručení – zabere to jen minutu."
            ),
            "ro": (
                "Comanda dumneavoastră de la {store} a fost livrată. "
                "Vă rugăm să evaluați livrarea – durează doar un minut."
            ),
        },
        "thank_you": {
            "en": "Thank you for your answers! They will help us improve our delivery.",
            "lt": "Dėkojame už atsakymus! Jie padės mums gerinti pristatymą.",
            "lv": "Paldies par atbildēm! Tās palīdzēs mums uzlabot piegādi.",
            "et": "Aitäh vastuste eest! Need aitavad meil tarnet paremaks muuta.",
            "cs": "Děkujeme za odpovědi! Pomohou nám zlepšit doručování.",
            "ro": "Vă mulțumim pentru răspunsuri! Ne vor ajuta să îmbunătățim livrarea.",
        },
        "questions": [
            {
                "type": "rating",
                "required": True,
                "text": {
                    "en": "How satisfied are you with the delivery of your order?",
                    "lt": "Kiek esate patenkinti užsakymo pristatymu?",
                    "lv": "Cik lielā mērā Jūs apmierināja pasūtījuma piegāde?",
                    "et": "Kui rahul olete tellimuse kohaletoimetamisega?",
                    "cs": "Jak jste spokojeni s doručením objednávky?",
                    "ro": "Cât de mulțumiți sunteți de livrarea comenzii?",
                },
                "choices": {},
            },
            {
                "type": "multiple_choice",
                "required": False,
                "text": {
                    "en": "What could we improve?",
                    "lt": "Ką galėtume patobulinti?",
                    "lv": "Ko mēs varētu uzlabot?",
                    "et": "Mida võiksime parandada?",
                    "cs": "Co bychom mohli zlepšit?",
                    "ro": "Ce am putea îmbunătăți?",
                },
                "choices": {
                    "en": [
                        "Delivery time",
                        "Packaging",
                        "Tracking information",
                        "Courier",
                        "Condition of the goods",
                        "Other",
                    ],
                    "lt": [
                        "Pristatymo laikas",
                        "Pakuotė",
                        "Siuntos sekimo informacija",
                        "Kurjeris",
                        "Prekių būklė",
                        "Kita",
                    ],
                    "lv": [
                        "Piegādes laiks",
                        "Iepakojums",
                        "Sūtījuma izsekošanas informācija",
                        "Kurjers",
                        "Preču stāvoklis",
                        "Cits",
                    ],
                    "et": [
                        "Tarneaeg",
                        "Pakend",
                        "Saadetise jälgimise info",
                        "Kuller",
                        "Kauba seisukord",
                        "Muu",
                    ],
                    "cs": [
                        "Doba doručení",
                        "Balení",
                        "Informace o sledování zásilky",
                        "Kurýr",
                        "Stav zboží",
                        "Jiné",
                    ],
                    "ro": [
                        "Timpul de livrare",
                        "Ambalajul",
                        "Informațiile de urmărire a coletului",
                        "Curierul",
                        "Starea produselor",
                        "Altceva",
                    ],
                },
            },
            {
                "type": "free_text",
                "required": False,
                "text": {
                    "en": "Is there anything else you would like to tell us about the delivery?",
                    "lt": "Ar norėtumėte dar ką nors pasakyti apie pristatymą?",
                    "lv": "Vai vēlaties vēl ko piebilst par piegādi?",
                    "et": "Kas soovite tarne kohta veel midagi lisada?",
                    "cs": "Chcete nám k doručení ještě něco sdělit?",
                    "ro": "Mai doriți să ne spuneți ceva despre livrare?",
                },
                "choices": {},
            },
        ],
    },
    "product-satisfaction": {
        "label": _("Product satisfaction (CSAT)"),
        "description": _(
            "Asks customers two weeks after delivery how satisfied they are with the product."
        ),
        "kind": "csat",
        "moment": "SMOT",
        "trigger_event": "delivered",
        "delay_hours": 24 * 14,
        "reminder_after_days": 3,
        "name": {
            "en": "Product satisfaction",
            "lt": "Pasitenkinimas preke",
            "lv": "Apmierinātība ar preci",
            "et": "Rahulolu tootega",
            "cs": "Spokojenost se zbožím",
            "ro": "Satisfacția față de produs",
        },
        "email_subject": {
            "en": "How do you like your purchase?",
            "lt": "Kaip Jums patinka įsigyta prekė?",
            "lv": "Kā Jums patīk iegādātā prece?",
            "et": "Kuidas ostetud toode Teile meeldib?",
            "cs": "Jak jste spokojeni se zakoupeným zbožím?",
            "ro": "Cum vă place produsul cumpărat?",
        },
        "email_intro": {
            "en": (
                "Your order from {store} arrived two weeks ago. "
                "We would like to know how you like the product."
            ),
            "lt": (
                "Praėjo dvi savaitės nuo tada, kai gavote užsakymą iš parduotuvės {store}. "
                "Norėtume sužinoti, kaip Jums patinka prekė."
            ),
            "lv": (
                "Ir pagājušas divas nedēļas, kopš saņēmāt pasūtījumu no veikala {store}. "
                "Vēlamies uzzināt, kā Jums patīk prece."
            ),
            "et": (
                "Teie tellimus {store} e-poest jõudis kohale kaks nädalat tagasi. "
                "Sooviksime teada, kui rahul olete tootega."
            ),
            "cs": (
                "Před dvěma týdny vám dorazila objednávka z obchodu {store}. "
                "Rádi bychom věděli, jak jste se zbožím spokojeni."
            ),
            "ro": (
                "Au trecut două săptămâni de când ați primit comanda de la {store}. "
                "Am dori să aflăm cum vă place produsul."
            ),
        },
        "thank_you": {
            "en": "Thank you! Your opinion helps us choose and describe our products better.",
            "lt": "Dėkojame! Jūsų nuomonė padės mums geriau atrinkti ir aprašyti prekes.",
            "lv": "Paldies! Jūsu viedoklis palīdzēs mums labāk izvēlēties un aprakstīt preces.",
            "et": "Aitäh! Teie arvamus aitab meil tooteid paremini valida ja kirjeldada.",
            "cs": "Děkujeme! Váš názor nám pomůže lépe vybírat a popisovat zboží.",
            "ro": (
                "Vă mulțumim! Părerea dumneavoastră ne ajută să alegem "
                "și să descriem mai bine produsele."
            ),
        },
        "questions": [
            {
                "type": "rating",
                "required": True,
                "text": {
                    "en": "How satisfied are you with the product?",
                    "lt": "Kiek esate patenkinti preke?",
                    "lv": "Cik lielā mērā Jūs apmierina prece?",
                    "et": "Kui rahul olete tootega?",
                    "cs": "Jak jste spokojeni se zbožím?",
                    "ro": "Cât de mulțumiți sunteți de produs?",
                },
                "choices": {},
            },
            {
                "type": "single_choice",
                "required": False,
                "text": {
                    "en": "Does the product match its description?",
                    "lt": "Ar prekė atitinka aprašymą?",
                    "lv": "Vai prece atbilst aprakstam?",
                    "et": "Kas toode vastab kirjeldusele?",
                    "cs": "Odpovídá zboží popisu?",
                    "ro": "Produsul corespunde descrierii?",
                },
                "choices": {
                    "en": ["Yes", "Partly", "No"],
                    "lt": ["Taip", "Iš dalies", "Ne"],
                    "lv": ["Jā", "Daļēji", "Nē"],
                    "et": ["Jah", "Osaliselt", "Ei"],
                    "cs": ["Ano", "Částečně", "Ne"],
                    "ro": ["Da", "Parțial", "Nu"],
                },
            },
            {
                "type": "free_text",
                "required": False,
                "text": {
                    "en": "What do you like about the product, and what could be better?",
                    "lt": "Kas prekėje Jums patinka, o kas galėtų būti geriau?",
                    "lv": "Kas Jums precē patīk un kas varētu būt labāk?",
                    "et": "Mis Teile toote juures meeldib ja mis võiks olla parem?",
                    "cs": "Co se vám na zboží líbí a co by mohlo být lepší?",
                    "ro": "Ce vă place la produs și ce ar putea fi mai bun?",
                },
                "choices": {},
            },
        ],
    },
    "nps": {
        "label": _("Net Promoter Score (NPS)"),
        "description": _(
            "Asks customers a month after delivery how likely they are to recommend the store."
        ),
        "kind": "nps",
        "moment": "UMOT",
        "trigger_event": "delivered",
        "delay_hours": 24 * 30,
        "reminder_after_days": 3,
        "name": {
            "en": "Likelihood to recommend (NPS)",
            "lt": "Rekomendavimo tikimybė (NPS)",
            "lv": "Ieteikšanas varbūtība (NPS)",
            "et": "Soovitamise tõenäosus (NPS)",
            "cs": "Ochota doporučit (NPS)",
            "ro": "Probabilitatea de recomandare (NPS)",
        },
        "email_subject": {
            "en": "Would you recommend {store}?",
            "lt": "Ar rekomenduotumėte parduotuvę {store}?",
            "lv": "Vai Jūs ieteiktu veikalu {store}?",
            "et": "Kas soovitaksite {store} e-poodi?",
            "cs": "Doporučili byste obchod {store}?",
            "ro": "Ați recomanda {store}?",
        },
        "email_intro": {
            "en": "Your opinion of {store} matters to us. Answering takes less than a minute.",
            "lt": (
                "Mums svarbi Jūsų nuomonė apie parduotuvę {store}. Tai užtruks mažiau nei minutę."
            ),
            "lv": (
                "Mums ir svarīgs Jūsu viedoklis par veikalu {store}. "
                "Atbildēšana aizņems mazāk nekā minūti."
            ),
            "et": (
                "Teie arvamus {store} e-poe kohta on meile oluline. "
                "Vastamine võtab vähem kui minuti."
            ),
            "cs": "Zajímá nás váš názor na obchod {store}. Odpověď vám zabere méně než minutu.",
            "ro": (
                "Părerea dumneavoastră despre {store} contează pentru noi. "
                "Răspunsul durează mai puțin de un minut."
            ),
        },
        "thank_you": {
            "en": "Thank you for your time and your honest answer!",
            "lt": "Dėkojame už skirtą laiką ir atvirą atsakymą!",
            "lv": "Paldies par veltīto laiku un godīgo atbildi!",
            "et": "Aitäh, et leidsite aega ja vastasite ausalt!",
            "cs": "Děkujeme za váš čas a upřímnou odpověď!",
            "ro": "Vă mulțumim pentru timpul acordat și pentru răspunsul sincer!",
        },
        "questions": [
            {
                "type": "nps",
                "required": True,
                "text": {
                    "en": "How likely are you to recommend {store} to a friend or colleague?",
                    "lt": (
                        "Kokia tikimybė, kad rekomenduotumėte parduotuvę {store} "
                        "draugui ar kolegai?"
                    ),
                    "lv": "Cik ticams, ka Jūs ieteiktu veikalu {store} draugam vai kolēģim?",
                    "et": "Kui tõenäoliselt soovitaksite {store} e-poodi sõbrale või kolleegile?",
                    "cs": (
                        "Jak pravděpodobné je, že byste obchod {store} doporučili "
                        "příteli nebo kolegovi?"
                    ),
                    "ro": "Cât de probabil este să recomandați {store} unui prieten sau coleg?",
                },
                "choices": {},
            },
            {
                "type": "free_text",
                "required": False,
                "text": {
                    "en": "What is the main reason for your score?",
                    "lt": "Kokia pagrindinė Jūsų įvertinimo priežastis?",
                    "lv": "Kāds ir galvenais Jūsu vērtējuma iemesls?",
                    "et": "Mis on Teie hinnangu peamine põhjus?",
                    "cs": "Jaký je hlavní důvod vašeho hodnocení?",
                    "ro": "Care este motivul principal al notei acordate?",
                },
                "choices": {},
            },
        ],
    },
    "checkout-ces": {
        "label": _("Checkout ease (CES)"),
        "description": _("Asks buyers an hour after ordering how easy it was to place the order."),
        "kind": "ces",
        "moment": "SMOT",
        "trigger_event": "purchase",
        "delay_hours": 1,
        "reminder_after_days": None,
        "name": {
            "en": "Checkout ease",
            "lt": "Užsakymo pateikimo paprastumas",
            "lv": "Pasūtījuma noformēšanas ērtums",
            "et": "Tellimuse vormistamise lihtsus",
            "cs": "Snadnost objednávky",
            "ro": "Ușurința plasării comenzii",
        },
        "email_subject": {
            "en": "How easy was it to place your order?",
            "lt": "Kaip lengva buvo pateikti užsakymą?",
            "lv": "Cik viegli bija noformēt pasūtījumu?",
            "et": "Kui lihtne oli tellimust vormistada?",
            "cs": "Jak snadno se vám objednávalo?",
            "ro": "Cât de ușor a fost să plasați comanda?",
        },
        "email_intro": {
            "en": (
                "Thank you for your order at {store}. "
                "Please tell us how ordering went – it takes less than a minute."
            ),
            "lt": (
                "Dėkojame už užsakymą parduotuvėje {store}. "
                "Praneškite mums, kaip sekėsi jį pateikti – tai užtruks mažiau nei minutę."
            ),
            "lv": (
                "Paldies par pasūtījumu veikalā {store}. "
                "Lūdzu, pastāstiet, kā Jums veicās to noformēt – tas aizņems mazāk nekā minūti."
            ),
            "et": (
                "Täname tellimuse eest {store} e-poes! "
                "Palun andke teada, kuidas tellimuse vormistamine sujus – "
                "see võtab vähem kui minuti."
            ),
            "cs": (
                "Děkujeme za objednávku v obchodě {store}. "
                "Dejte nám prosím vědět, jak se vám objednávalo – zabere to méně než minutu."
            ),
            "ro": (
                "Vă mulțumim pentru comanda de la {store}. "
                "Spuneți-ne cum a decurs plasarea ei – durează mai puțin de un minut."
            ),
        },
        "thank_you": {
            "en": "Thank you! Your answer will help us make ordering easier.",
            "lt": "Dėkojame! Jūsų atsakymas padės mums supaprastinti užsakymo pateikimą.",
            "lv": "Paldies! Jūsu atbilde palīdzēs mums padarīt pasūtīšanu vienkāršāku.",
            "et": "Aitäh! Teie vastus aitab meil tellimist lihtsamaks muuta.",
            "cs": "Děkujeme! Vaše odpověď nám pomůže zjednodušit objednávání.",
            "ro": (
                "Vă mulțumim! Răspunsul dumneavoastră ne ajută să simplificăm plasarea comenzilor."
            ),
        },
        "questions": [
            {
                "type": "ces",
                "required": True,
                "text": {
                    "en": "How easy was it to place your order?",
                    "lt": "Kaip lengva buvo pateikti užsakymą?",
                    "lv": "Cik viegli bija noformēt pasūtījumu?",
                    "et": "Kui lihtne oli tellimust vormistada?",
                    "cs": "Jak snadné pro vás bylo dokončit objednávku?",
                    "ro": "Cât de ușor v-a fost să plasați comanda?",
                },
                "choices": {},
            },
            {
                "type": "single_choice",
                "required": False,
                "text": {
                    "en": "What made it harder?",
                    "lt": "Kas apsunkino užsakymo pateikimą?",
                    "lv": "Kas apgrūtināja pasūtījuma noformēšanu?",
                    "et": "Mis muutis tellimuse vormistamise keerulisemaks?",
                    "cs": "Co vám objednávku ztížilo?",
                    "ro": "Ce v-a îngreunat plasarea comenzii?",
                },
                "choices": {
                    "en": [
                        "Signing in or creating an account",
                        "Entering my details",
                        "Choosing a delivery method",
                        "Payment",
                        "Unexpected extra costs",
                        "A slow website or errors",
                        "Nothing, it was easy",
                    ],
                    "lt": [
                        "Prisijungimas arba registracija",
                        "Duomenų įvedimas",
                        "Pristatymo būdo pasirinkimas",
                        "Apmokėjimas",
                        "Netikėtos papildomos išlaidos",
                        "Lėtai veikianti svetainė ar klaidos",
                        "Niekas, viskas buvo paprasta",
                    ],
                    "lv": [
                        "Pieslēgšanās vai reģistrēšanās",
                        "Datu ievadīšana",
                        "Piegādes veida izvēle",
                        "Apmaksa",
                        "Negaidītas papildu izmaksas",
                        "Lēni strādājoša vietne vai kļūdas",
                        "Nekas, viss bija viegli",
                    ],
                    "et": [
                        "Sisselogimine või konto loomine",
                        "Andmete sisestamine",
                        "Tarneviisi valimine",
                        "Maksmine",
                        "Ootamatud lisakulud",
                        "Aeglane veebileht või vead",
                        "Mitte miski, kõik oli lihtne",
                    ],
                    "cs": [
                        "Přihlášení nebo registrace",
                        "Vyplňování údajů",
                        "Výběr způsobu doručení",
                        "Platba",
                        "Nečekané dodatečné náklady",
                        "Pomalý web nebo chyby",
                        "Nic, bylo to snadné",
                    ],
                    "ro": [
                        "Autentificarea sau crearea contului",
                        "Completarea datelor",
                        "Alegerea metodei de livrare",
                        "Plata",
                        "Costuri suplimentare neașteptate",
                        "Lentoarea site-ului sau erorile",
                        "Nimic, a fost ușor",
                    ],
                },
            },
            {
                "type": "free_text",
                "required": False,
                "text": {
                    "en": "What should we change to make ordering easier?",
                    "lt": "Ką turėtume pakeisti, kad užsisakyti būtų lengviau?",
                    "lv": "Ko mums vajadzētu mainīt, lai pasūtīt būtu vieglāk?",
                    "et": "Mida peaksime muutma, et tellimine oleks lihtsam?",
                    "cs": "Co bychom měli změnit, aby se u nás objednávalo snáz?",
                    "ro": "Ce ar trebui să schimbăm pentru ca plasarea comenzii să fie mai ușoară?",
                },
                "choices": {},
            },
        ],
    },
    "review-request": {
        "label": _("Review request"),
        "description": _(
            "Asks customers a week after delivery to rate their experience and write a review."
        ),
        "kind": "custom",
        "moment": "UMOT",
        "trigger_event": "delivered",
        "delay_hours": 24 * 7,
        "reminder_after_days": 3,
        "name": {
            "en": "Review request",
            "lt": "Prašymas palikti atsiliepimą",
            "lv": "Lūgums sniegt atsauksmi",
            "et": "Arvustuse palve",
            "cs": "Žádost o recenzi",
            "ro": "Cerere de recenzie",
        },
        "email_subject": {
            "en": "Would you write a short review of {store}?",
            "lt": "Gal parašytumėte trumpą atsiliepimą apie parduotuvę {store}?",
            "lv": "Vai Jūs uzrakstītu īsu atsauksmi par veikalu {store}?",
            "et": "Kas kirjutaksite {store} e-poe kohta lühikese arvustuse?",
            "cs": "Napsali byste krátkou recenzi obchodu {store}?",
            "ro": "Ați scrie o scurtă recenzie despre {store}?",
        },
        "email_intro": {
            "en": (
                "Thank you for shopping at {store}. "
                "Your review helps other shoppers choose and helps us improve."
            ),
            "lt": (
                "Dėkojame, kad apsipirkote parduotuvėje {store}. "
                "Jūsų atsiliepimas padės kitiems pirkėjams išsirinkti, o mums – tobulėti."
            ),
            "lv": (
                "Paldies, ka iepirkāties veikalā {store}. "
                "Jūsu atsauksme palīdzēs citiem pircējiem izvēlēties, bet mums – kļūt labākiem."
            ),
            "et": (
                "Täname, et ostsite {store} e-poest! "
                "Teie arvustus aitab teistel ostjatel valida ja meil paremaks saada."
            ),
            "cs": (
                "Děkujeme za nákup v obchodě {store}. "
                "Vaše recenze pomůže ostatním zákazníkům s výběrem a nám se zlepšovat."
            ),
            "ro": (
                "Vă mulțumim că ați cumpărat de la {store}. "
                "Recenzia dumneavoastră îi ajută pe alți clienți să aleagă, "
                "iar pe noi să ne îmbunătățim."
            ),
        },
        "thank_you": {
            "en": "Thank you for your review! It means a lot to us.",
            "lt": "Dėkojame už atsiliepimą! Jis mums labai svarbus.",
            "lv": "Paldies par atsauksmi! Tā mums ir ļoti svarīga.",
            "et": "Aitäh arvustuse eest! See on meile väga oluline.",
            "cs": "Děkujeme za recenzi! Velmi si jí vážíme.",
            "ro": "Vă mulțumim pentru recenzie! Contează mult pentru noi.",
        },
        "questions": [
            {
                "type": "rating",
                "required": True,
                "text": {
                    "en": "Overall, how satisfied are you with your experience with us?",
                    "lt": "Kiek apskritai esate patenkinti apsipirkimu pas mus?",
                    "lv": "Cik lielā mērā Jūs kopumā apmierināja iepirkšanās pie mums?",
                    "et": "Kui rahul olete kokkuvõttes meie e-poega?",
                    "cs": "Jak jste celkově spokojeni s nákupem u nás?",
                    "ro": "În general, cât de mulțumiți sunteți de cumpărăturile făcute la noi?",
                },
                "choices": {},
            },
            {
                "type": "free_text",
                "required": False,
                "text": {
                    "en": "Your review",
                    "lt": "Jūsų atsiliepimas",
                    "lv": "Jūsu atsauksme",
                    "et": "Teie arvustus",
                    "cs": "Vaše recenze",
                    "ro": "Recenzia dumneavoastră",
                },
                "choices": {},
            },
            {
                # Optional on purpose: no answer means no consent to publish.
                "type": "single_choice",
                "required": False,
                "text": {
                    "en": "May we publish your review on our site?",
                    "lt": "Ar galime paskelbti Jūsų atsiliepimą savo svetainėje?",
                    "lv": "Vai drīkstam publicēt Jūsu atsauksmi savā vietnē?",
                    "et": "Kas võime Teie arvustuse oma veebilehel avaldada?",
                    "cs": "Můžeme vaši recenzi zveřejnit na našem webu?",
                    "ro": "Putem publica recenzia dumneavoastră pe site-ul nostru?",
                },
                "choices": {
                    "en": ["Yes, with my first name", "Yes, anonymously", "No"],
                    "lt": ["Taip, su mano vardu", "Taip, anonimiškai", "Ne"],
                    "lv": ["Jā, ar manu vārdu", "Jā, anonīmi", "Nē"],
                    "et": ["Jah, minu eesnimega", "Jah, anonüümselt", "Ei"],
                    "cs": ["Ano, s mým křestním jménem", "Ano, anonymně", "Ne"],
                    "ro": ["Da, cu prenumele meu", "Da, anonim", "Nu"],
                },
            },
        ],
    },
}
