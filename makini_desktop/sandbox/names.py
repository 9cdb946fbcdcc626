"""Name pools the sandbox generator draws from.

Kept in Python rather than text files so they are type-checked, need no I/O at start-up and
travel inside a frozen build without package-data configuration. Everything here is plain
immutable data: the generator decides how to combine it.

The lists aim at data that reads like a real multinational's workplace system: people from
many cultures, real cities and streets, real equipment makes and models. Companies and
building names are invented.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# ---------------------------------------------------------------------------------------
# People: first and last names grouped by culture, so a generated name is a plausible pair.

PEOPLE: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "en": (
        (
            "James", "Olivia", "Michael", "Emma", "Daniel", "Sophie", "Ryan", "Hannah",
            "Matthew", "Grace", "Andrew", "Chloe", "Thomas", "Emily", "Jack", "Megan",
            "Christopher", "Lauren", "Benjamin", "Rachel", "Samuel", "Katherine", "Nathan",
            "Abigail", "Luke", "Charlotte", "Owen", "Lucy", "Ethan", "Amelia", "William",
            "Jessica", "David", "Sarah", "Jennifer", "Robert", "Claire", "Patrick", "Fiona",
            "Gareth", "Heather", "Kevin", "Natalie", "Simon", "Victoria", "Aaron", "Brooke",
            "Alexander", "Madison", "Joshua", "Ella", "Tyler", "Isla", "Connor", "Harriet",
            "Jordan", "Zoe", "Liam", "Eleanor", "Noah", "Poppy", "Mason", "Imogen", "Logan",
            "Ruby", "Dylan", "Freya", "Caleb", "Molly", "Harrison", "Alice", "Callum",
            "Bethany", "Adam", "Jasmine", "Eric", "Melissa", "Scott", "Nicole", "Graham",
            "Laura", "Neil", "Susan", "Marcus", "Tessa",
        ),
        (
            "Smith", "Johnson", "Williams", "Brown", "Taylor", "Davies", "Wilson", "Evans",
            "Roberts", "Walker", "Wright", "Thompson", "White", "Hughes", "Edwards", "Green",
            "Hall", "Wood", "Harris", "Clarke", "Jackson", "Turner", "Hill", "Cooper", "Ward",
            "Morris", "Mitchell", "Campbell", "Anderson", "Miller", "Moore", "Bennett",
            "Parker", "Collins", "Reed", "Sullivan", "Murphy", "O'Brien", "Fitzgerald",
            "MacLeod", "Stewart", "Kennedy", "Hayes", "Brennan", "Fletcher", "Holloway",
            "Baker", "Carter", "Phillips", "Lewis", "Young", "King", "Scott", "Adams",
            "Nelson", "Baxter", "Foster", "Gray", "Russell", "Palmer", "Webb", "Barker",
            "Lawrence", "Chapman", "Marshall", "Owen", "Price", "Lloyd", "Doyle", "Quinn",
            "Gallagher", "Whitfield", "Ashworth", "Pemberton", "Caldwell", "Donovan",
            "Hargreaves", "Sinclair", "Thornton", "Whitaker", "Drummond", "Kerr",
        ),
    ),
    "es": (
        (
            "Alejandro", "Sofía", "Carlos", "Valentina", "Diego", "Camila", "Javier", "Lucía",
            "Mateo", "Isabella", "Andrés", "Mariana", "Luis", "Gabriela", "Miguel", "Daniela",
            "José", "Paula", "Fernando", "Ximena", "Rafael", "Carmen", "Pablo", "Elena",
            "Sergio", "Natalia", "Álvaro", "Marta",
        ),
        (
            "García", "Rodríguez", "Martínez", "Hernández", "López", "González", "Pérez",
            "Sánchez", "Ramírez", "Torres", "Flores", "Rivera", "Gómez", "Díaz", "Morales",
            "Ortiz", "Castillo", "Jiménez", "Vargas", "Romero", "Navarro", "Medina", "Ruiz",
            "Delgado", "Iglesias", "Serrano",
        ),
    ),
    "in": (
        (
            "Priya", "Arjun", "Ananya", "Rohan", "Kavya", "Vikram", "Aisha", "Rahul", "Neha",
            "Aditya", "Deepa", "Sanjay", "Meera", "Karthik", "Pooja", "Nikhil", "Divya",
            "Suresh", "Lakshmi", "Amit", "Shreya", "Rajesh", "Sunita", "Varun", "Ishaan",
            "Tanvi",
        ),
        (
            "Sharma", "Patel", "Iyer", "Reddy", "Nair", "Gupta", "Singh", "Kumar", "Menon",
            "Rao", "Desai", "Joshi", "Mehta", "Chatterjee", "Banerjee", "Pillai", "Kapoor",
            "Malhotra", "Verma", "Bhat", "Krishnan", "Subramanian", "Agarwal", "Shah",
        ),
    ),
    "zh": (
        (
            "Wei", "Mei", "Jun", "Hao", "Xiaoming", "Yan", "Jing", "Lei", "Ying", "Hui",
            "Tao", "Fang", "Bo", "Lin", "Jie", "Qing", "Xin", "Yifan", "Zihan", "Ruoxi",
        ),
        (
            "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu",
            "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Lin", "Gao", "Luo",
        ),
    ),
    "ja": (
        (
            "Haruto", "Yui", "Sota", "Aoi", "Ren", "Hina", "Kenji", "Sakura", "Takumi", "Yuki",
            "Daiki", "Mio", "Hiroshi", "Akiko", "Kaito", "Emi",
        ),
        (
            "Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura",
            "Kobayashi", "Kato", "Yoshida", "Yamada", "Sasaki", "Matsumoto", "Inoue", "Kimura",
        ),
    ),
    "ko": (
        (
            "Min-jun", "Seo-yeon", "Ji-ho", "Ha-eun", "Do-yun", "Su-bin", "Jae-won", "Ye-jin",
            "Hyun-woo", "Ji-woo", "Sung-min", "Eun-ji",
        ),
        ("Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim", "Han",
         "Shin"),
    ),
    "wa": (
        (
            "Chinedu", "Amara", "Oluwaseun", "Ngozi", "Kwame", "Abena", "Emeka", "Chiamaka",
            "Tunde", "Folake", "Kofi", "Adaeze", "Yaw", "Efua", "Ikenna", "Zainab",
        ),
        (
            "Okafor", "Adeyemi", "Mensah", "Okonkwo", "Boateng", "Nwosu", "Owusu", "Eze",
            "Balogun", "Asante", "Obi", "Adebayo", "Osei", "Chukwu", "Danso", "Oyelaran",
        ),
    ),
    "ar": (
        (
            "Omar", "Layla", "Youssef", "Fatima", "Karim", "Nour", "Tariq", "Amira", "Hassan",
            "Rania", "Khalid", "Salma", "Ahmed", "Yasmin", "Bilal", "Hana",
        ),
        (
            "Haddad", "Khalil", "Mansour", "Nasser", "Hamdan", "Saleh", "Farouk", "Aziz",
            "Haidar", "Rahman", "Qureshi", "El-Amin", "Darwish", "Suleiman", "Abbas", "Karam",
        ),
    ),
    "de": (
        (
            "Lukas", "Anna", "Felix", "Lena", "Jonas", "Katharina", "Maximilian", "Leonie",
            "Tobias", "Julia", "Florian", "Miriam", "Matthias", "Johanna", "Sebastian",
            "Franziska", "Jürgen", "Anke", "Stefan", "Sabine",
        ),
        (
            "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
            "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
            "Braun", "Zimmermann", "Krüger", "Hartmann", "Huber", "Gruber",
        ),
    ),
    "fr": (
        (
            "Louis", "Camille", "Hugo", "Manon", "Antoine", "Chloé", "Julien", "Léa",
            "Mathieu", "Élodie", "Nicolas", "Margaux", "Théo", "Inès", "Guillaume", "Céline",
        ),
        (
            "Martin", "Bernard", "Dubois", "Robert", "Richard", "Petit", "Durand", "Leroy",
            "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garnier", "Fontaine",
            "Rousseau", "Girard", "Bonnet", "Mercier", "Lambert",
        ),
    ),
    "it": (
        (
            "Marco", "Giulia", "Luca", "Francesca", "Alessandro", "Chiara", "Matteo",
            "Martina", "Lorenzo", "Sara", "Davide", "Federica", "Riccardo", "Alessia",
            "Stefano", "Elisa",
        ),
        (
            "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
            "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa",
        ),
    ),
    "pl": (
        (
            "Jakub", "Zofia", "Kacper", "Maja", "Piotr", "Agnieszka", "Tomasz", "Katarzyna",
            "Paweł", "Magdalena", "Michał", "Aleksandra",
        ),
        (
            "Nowak", "Wójcik", "Kowalczyk", "Mazur", "Krawczyk", "Zając", "Król", "Wróbel",
            "Dudek", "Pawlak", "Walczak", "Sikora", "Baran", "Michalak", "Szewczyk",
        ),
    ),
    "cs": (
        ("Ondřej", "Tereza", "Jan", "Eliška", "Vojtěch", "Kateřina", "Petr", "Lucie"),
        ("Horák", "Král", "Beneš", "Fiala", "Sedlák", "Doležal", "Zeman", "Kolář"),
    ),
    "nordic": (
        (
            "Erik", "Astrid", "Lars", "Ingrid", "Magnus", "Freja", "Anders", "Sigrid",
            "Henrik", "Nils", "Karin", "Søren", "Mette", "Oskar", "Linnea", "Mads",
        ),
        (
            "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsen", "Jensen",
            "Nielsen", "Hansen", "Pedersen", "Lindqvist", "Berg", "Holm", "Dahl", "Lund",
            "Sørensen",
        ),
    ),
    "nl": (
        (
            "Daan", "Sanne", "Bram", "Fleur", "Jeroen", "Lotte", "Thijs", "Femke", "Ruben",
            "Eline", "Pieter", "Anouk", "Wouter", "Lieke",
        ),
        (
            "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser",
            "Smit", "Meijer", "de Boer", "Mulder", "Peeters", "Janssens", "Maes", "Vermeulen",
            "Claes",
        ),
    ),
    "pt": (
        (
            "João", "Beatriz", "Pedro", "Ana", "Tiago", "Leonor", "Gonçalo", "Larissa",
            "Rodrigo", "Fernanda", "Bruno", "Carolina", "Thiago", "Mariana",
        ),
        (
            "Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Rodrigues", "Almeida",
            "Nascimento", "Carvalho", "Sousa", "Ribeiro", "Lima", "Araújo", "Gomes", "Barbosa",
        ),
    ),
    "vi": (
        ("Minh", "Linh", "Quang", "Thu", "Duc", "Lan", "Khoa", "Mai", "Huong", "Tuan"),
        ("Nguyen", "Tran", "Le", "Pham", "Hoang", "Vu", "Dang", "Bui", "Do", "Ngo"),
    ),
    "ph": (
        ("Angelo", "Maricel", "Paolo", "Kristine", "Jericho", "Rommel", "Jasmine", "Carlo",
         "Bea", "Joaquin"),
        ("Reyes", "Cruz", "Bautista", "Mendoza", "Villanueva", "Aquino", "Dela Cruz",
         "Ramos", "Castro", "Garcia"),
    ),
    "tr": (
        ("Emre", "Elif", "Burak", "Zeynep", "Can", "Ayşe", "Mert", "Selin", "Deniz", "Ozan"),
        ("Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Aydın", "Öztürk", "Arslan",
         "Doğan"),
    ),
    "el": (
        ("Giorgos", "Eleni", "Nikos", "Katerina", "Dimitris", "Sofia", "Kostas", "Maria"),
        ("Papadopoulos", "Georgiou", "Nikolaidis", "Konstantinou", "Alexiou", "Vlachos",
         "Dimitriou", "Karagiannis"),
    ),
}

# How common each culture is in the company as a whole; a site boosts its local culture.
CULTURE_WEIGHTS: Final[dict[str, float]] = {
    "en": 30, "es": 9, "in": 9, "zh": 6, "ja": 2, "ko": 2, "wa": 4, "ar": 4, "de": 4,
    "fr": 4, "it": 3, "pl": 3, "cs": 1, "nordic": 2, "nl": 2, "pt": 3, "vi": 2, "ph": 2,
    "tr": 2, "el": 1,
}

# ---------------------------------------------------------------------------------------
# Places


@dataclass(frozen=True)
class City:
    """A real city the company has offices in.

    Attributes:
        name: city name.
        code: the short code buildings there are prefixed with (``NYC``).
        state: state, county or region as an address's ``state`` line.
        country: country name.
        region: ``US``, ``UK`` or ``EU`` (drives area units and spelling).
        culture: the local culture of :data:`PEOPLE` boosted for people sitting there.
        lat: latitude of the business district.
        lng: longitude of the business district.
        streets: real streets there.
        postcodes: real-looking postcodes there.
        number_style: ``first`` ("200 Park Avenue"), ``after`` ("Friedrichstraße 68") or
            ``comma`` ("Paseo de la Castellana, 259").
    """

    name: str
    code: str
    state: str
    country: str
    region: str
    culture: str
    lat: float
    lng: float
    streets: tuple[str, ...]
    postcodes: tuple[str, ...]
    number_style: str = "first"


CITIES: Final[tuple[City, ...]] = (
    City("New York", "NYC", "NY", "United States", "US", "en", 40.7549, -73.9840,
         ("Park Avenue", "Madison Avenue", "Avenue of the Americas", "Hudson Street",
          "Broadway", "Lexington Avenue", "Water Street", "West 34th Street"),
         ("10017", "10022", "10036", "10013", "10001", "10004")),
    City("Chicago", "CHI", "IL", "United States", "US", "en", 41.8819, -87.6278,
         ("North Wacker Drive", "West Madison Street", "North LaSalle Street",
          "West Monroe Street", "North Michigan Avenue", "South Dearborn Street"),
         ("60606", "60602", "60603", "60601", "60654")),
    City("San Francisco", "SFO", "CA", "United States", "US", "zh", 37.7897, -122.3972,
         ("Market Street", "Mission Street", "Howard Street", "California Street",
          "Folsom Street", "Spear Street"),
         ("94105", "94103", "94111", "94107")),
    City("Austin", "AUS", "TX", "United States", "US", "es", 30.2672, -97.7431,
         ("Congress Avenue", "West 6th Street", "Colorado Street", "East Cesar Chavez Street",
          "Lavaca Street"),
         ("78701", "78702", "78703")),
    City("Boston", "BOS", "MA", "United States", "US", "en", 42.3554, -71.0605,
         ("Boylston Street", "Federal Street", "Summer Street", "State Street",
          "Atlantic Avenue", "Seaport Boulevard"),
         ("02116", "02110", "02210", "02109")),
    City("Seattle", "SEA", "WA", "United States", "US", "vi", 47.6062, -122.3321,
         ("2nd Avenue", "Pine Street", "Westlake Avenue North", "Union Street",
          "5th Avenue", "Terry Avenue North"),
         ("98101", "98104", "98109", "98121")),
    City("Atlanta", "ATL", "GA", "United States", "US", "wa", 33.7838, -84.3834,
         ("Peachtree Street NE", "West Peachtree Street NW", "Piedmont Road NE",
          "Spring Street NW"),
         ("30308", "30309", "30303", "30305")),
    City("Denver", "DEN", "CO", "United States", "US", "en", 39.7447, -104.9916,
         ("17th Street", "Larimer Street", "Blake Street", "California Street",
          "Wynkoop Street"),
         ("80202", "80205")),
    City("Los Angeles", "LAX", "CA", "United States", "US", "es", 34.0522, -118.2437,
         ("Wilshire Boulevard", "South Grand Avenue", "West 5th Street",
          "South Figueroa Street", "Sunset Boulevard"),
         ("90017", "90071", "90028", "90010")),
    City("Washington", "WAS", "DC", "United States", "US", "en", 38.9007, -77.0365,
         ("K Street NW", "Pennsylvania Avenue NW", "Connecticut Avenue NW", "14th Street NW",
          "New York Avenue NW"),
         ("20006", "20005", "20004", "20036")),
    City("Dallas", "DAL", "TX", "United States", "US", "in", 32.7876, -96.7994,
         ("McKinney Avenue", "Ross Avenue", "North Akard Street", "Cedar Springs Road"),
         ("75201", "75204")),
    City("London", "LON", "Greater London", "United Kingdom", "UK", "en", 51.5154, -0.0823,
         ("Bishopsgate", "Cannon Street", "Moorgate", "Pancras Square", "Fenchurch Street",
          "Gresham Street", "Southwark Street", "Victoria Street"),
         ("EC2M 3XD", "EC4N 6AF", "EC3M 4AJ", "SE1 9SG", "SW1H 0TL", "N1C 4AG")),
    City("Manchester", "MAN", "Greater Manchester", "United Kingdom", "UK", "en",
         53.4808, -2.2426,
         ("Deansgate", "Quay Street", "Piccadilly", "Oxford Road", "King Street",
          "Hardman Street"),
         ("M3 3HF", "M1 4BT", "M2 4WU", "M3 3AP")),
    City("Edinburgh", "EDI", "City of Edinburgh", "United Kingdom", "UK", "en",
         55.9486, -3.2008,
         ("George Street", "Lothian Road", "Haymarket Yards", "Semple Street", "Queen Street"),
         ("EH2 2PF", "EH3 9WJ", "EH12 5BH", "EH3 8BL")),
    City("Birmingham", "BHX", "West Midlands", "United Kingdom", "UK", "in", 52.4797, -1.9026,
         ("Colmore Row", "Brindleyplace", "Newhall Street", "Broad Street",
          "Snow Hill Queensway"),
         ("B3 2BJ", "B1 2JB", "B3 3AX")),
    City("Bristol", "BRS", "City of Bristol", "United Kingdom", "UK", "en", 51.4545, -2.5879,
         ("Temple Quay", "Victoria Street", "Queen Square", "Redcliff Street", "Broad Quay"),
         ("BS1 6DZ", "BS1 4ND", "BS1 6EG")),
    City("Leeds", "LDS", "West Yorkshire", "United Kingdom", "UK", "en", 53.7960, -1.5474,
         ("Wellington Place", "Park Row", "Whitehall Road", "East Parade", "Sovereign Street"),
         ("LS1 4AP", "LS1 5HD", "LS1 2JE")),
    City("Dublin", "DUB", "County Dublin", "Ireland", "EU", "en", 53.3398, -6.2369,
         ("Sir John Rogerson's Quay", "Harcourt Street", "St Stephen's Green", "Barrow Street",
          "Grand Canal Square", "Fitzwilliam Street Lower"),
         ("D02 X576", "D02 PN40", "D04 V1W8", "D02 F205")),
    City("Amsterdam", "AMS", "Noord-Holland", "Netherlands", "EU", "nl", 52.3383, 4.8730,
         ("Gustav Mahlerlaan", "Claude Debussylaan", "Herengracht", "Prins Bernhardplein",
          "Stadhouderskade"),
         ("1082 MC", "1082 MD", "1017 BX", "1097 JB"), "after"),
    City("Berlin", "BER", "Berlin", "Germany", "EU", "de", 52.5065, 13.3263,
         ("Friedrichstraße", "Potsdamer Platz", "Kurfürstendamm", "Alexanderstraße",
          "Schlesische Straße", "Invalidenstraße"),
         ("10117", "10785", "10719", "10178", "10997"), "after"),
    City("Munich", "MUC", "Bavaria", "Germany", "EU", "de", 48.1402, 11.5600,
         ("Arnulfstraße", "Leopoldstraße", "Maximilianstraße", "Sendlinger Straße",
          "Bayerstraße"),
         ("80335", "80802", "80539", "80331"), "after"),
    City("Frankfurt", "FRA", "Hesse", "Germany", "EU", "de", 50.1109, 8.6821,
         ("Taunusanlage", "Mainzer Landstraße", "Neue Mainzer Straße",
          "Bockenheimer Landstraße", "Theodor-Heuss-Allee"),
         ("60325", "60329", "60311", "60486"), "after"),
    City("Hamburg", "HAM", "Hamburg", "Germany", "EU", "de", 53.5511, 9.9937,
         ("Jungfernstieg", "Am Sandtorkai", "Großer Burstah", "ABC-Straße"),
         ("20354", "20457", "20459"), "after"),
    City("Paris", "PAR", "Île-de-France", "France", "EU", "fr", 48.8722, 2.3305,
         ("Boulevard Haussmann", "Rue de la Paix", "Avenue de l'Opéra",
          "Rue du Faubourg Saint-Honoré", "Rue de Rivoli", "Avenue des Champs-Élysées"),
         ("75009", "75002", "75001", "75008")),
    City("Lyon", "LYS", "Auvergne-Rhône-Alpes", "France", "EU", "fr", 45.7640, 4.8357,
         ("Rue de la République", "Cours Lafayette", "Boulevard Vivier-Merle",
          "Quai Perrache"),
         ("69002", "69003")),
    City("Madrid", "MAD", "Comunidad de Madrid", "Spain", "EU", "es", 40.4473, -3.6924,
         ("Paseo de la Castellana", "Calle de Alcalá", "Gran Vía", "Calle de Serrano",
          "Paseo de Recoletos"),
         ("28046", "28014", "28013", "28006"), "comma"),
    City("Barcelona", "BCN", "Catalonia", "Spain", "EU", "es", 41.3942, 2.1617,
         ("Avinguda Diagonal", "Passeig de Gràcia", "Carrer de Pujades", "Carrer de Balmes",
          "Gran Via de les Corts Catalanes"),
         ("08008", "08018", "08007"), "comma"),
    City("Milan", "MIL", "Lombardy", "Italy", "EU", "it", 45.4836, 9.1903,
         ("Via Monte Napoleone", "Corso Buenos Aires", "Viale Monza", "Via Torino",
          "Via Alessandro Manzoni", "Piazza Gae Aulenti"),
         ("20124", "20121", "20123"), "comma"),
    City("Stockholm", "STO", "Stockholm County", "Sweden", "EU", "nordic", 59.3326, 18.0649,
         ("Kungsgatan", "Sveavägen", "Regeringsgatan", "Vasagatan", "Birger Jarlsgatan"),
         ("111 43", "111 57", "114 35"), "after"),
    City("Copenhagen", "CPH", "Capital Region", "Denmark", "EU", "nordic", 55.6761, 12.5683,
         ("Kalvebod Brygge", "Amerika Plads", "Vesterbrogade", "Bredgade", "Havneholmen"),
         ("1560", "2100", "1620", "1260"), "after"),
    City("Warsaw", "WAW", "Masovian", "Poland", "EU", "pl", 52.2297, 21.0122,
         ("Aleje Jerozolimskie", "ulica Prosta", "ulica Marszałkowska", "ulica Grzybowska",
          "ulica Chmielna"),
         ("00-807", "00-838", "00-001", "00-844"), "after"),
    City("Brussels", "BRU", "Brussels-Capital", "Belgium", "EU", "nl", 50.8466, 4.3528,
         ("Avenue Louise", "Rue de la Loi", "Boulevard du Roi Albert II", "Avenue des Arts"),
         ("1050", "1040", "1000", "1210"), "after"),
    City("Lisbon", "LIS", "Lisbon", "Portugal", "EU", "pt", 38.7369, -9.1427,
         ("Avenida da Liberdade", "Avenida da República", "Rua Castilho",
          "Avenida Fontes Pereira de Melo"),
         ("1250-096", "1050-185", "1070-100"), "comma"),
    City("Vienna", "VIE", "Vienna", "Austria", "EU", "de", 48.2082, 16.3738,
         ("Kärntner Ring", "Wiedner Gürtel", "Donau-City-Straße", "Praterstraße",
          "Mariahilfer Straße"),
         ("1010", "1100", "1220", "1070"), "after"),
    City("Prague", "PRG", "Prague", "Czechia", "EU", "cs", 50.0755, 14.4378,
         ("Vinohradská", "Na Příkopě", "Karolinská", "Pernerova", "Rohanské nábřeží"),
         ("110 00", "186 00", "120 00"), "after"),
)

# Words building names are made of ("One Riverside Plaza", "Meridian House").
BUILDING_WORDS: Final[tuple[str, ...]] = (
    "Riverside", "Meridian", "Lakeside", "Bridgewater", "Kingsway", "Parkview", "Granite",
    "Beacon", "Summit", "Waterfront", "Cityview", "Foundry", "Gateway", "Crescent", "Union",
    "Liberty", "Northpoint", "Eastgate", "Aurora", "Atlas", "Horizon", "Pinnacle", "Quayside",
    "Sterling", "Orchard", "Cedar", "Willow", "Ironworks", "Mercantile", "Exchange",
    "Cornerstone", "Lighthouse", "Millennium", "Regent", "Albion", "Harbour", "Copperfield",
    "Highgate", "Silverton", "Marlowe",
)
BUILDING_NUMBER_WORDS: Final[tuple[str, ...]] = ("One", "Two", "Three", "Four", "Five", "Six")
BUILDING_SUFFIXES: Final[dict[str, tuple[str, ...]]] = {
    "US": ("Plaza", "Place", "Center", "Tower", "Square", "Park"),
    "UK": ("Place", "Square", "House", "Court", "Tower", "Centre"),
    "EU": ("Tower", "Campus", "Centre", "Square", "Park", "House"),
}
SITE_ROLES: Final[tuple[str, ...]] = (
    "Regional office", "Sales office", "Engineering hub", "Operations {centre}",
    "Customer experience {centre}", "Innovation campus", "Shared services {centre}",
    "Satellite office", "Technology {centre}", "Research and development site",
)
SITE_NOTES: Final[dict[str, tuple[str, ...]]] = {
    "US": ("LEED Gold certified.", "LEED Platinum certified.", "Leased; lease renewal 2029.",
           "Owned.", "Lobby refurbished in 2022.", "Shared tenancy; floors leased only.",
           "24/7 security desk."),
    "UK": ("BREEAM Excellent.", "BREEAM Very Good.", "Leasehold; break clause 2028.",
           "Freehold.", "Cat A+ fit-out completed 2023.", "Cycle store and showers on level -1."),
    "EU": ("DGNB Gold.", "BREEAM Excellent.", "Leased; lease ends 2030.", "Owned.",
           "Renovated in 2021.", "Shared tenancy with two other companies."),
}

# ---------------------------------------------------------------------------------------
# Room names

MEETING_THEMES: Final[dict[str, tuple[str, ...]]] = {
    "mountains": (
        "Kilimanjaro", "Everest", "Denali", "Matterhorn", "Mont Blanc", "Aconcagua", "Elbrus",
        "Fuji", "K2", "Annapurna", "Eiger", "Olympus", "Rainier", "Whitney", "Ben Nevis",
        "Snowdon", "Zugspitze", "Table Mountain", "Kosciuszko", "Vinson", "Logan", "Shasta",
        "Etna", "Triglav", "Toubkal", "Cotopaxi", "Chimborazo", "Ararat", "Aoraki", "Lhotse",
        "Makalu", "Dhaulagiri", "Jungfrau", "Monte Rosa", "Grossglockner", "Kenya",
        "Kangchenjunga", "Cho Oyu", "Nanga Parbat", "Elbert",
    ),
    "rivers": (
        "Amazon", "Danube", "Thames", "Nile", "Rhine", "Mekong", "Seine", "Hudson",
        "Mississippi", "Yangtze", "Volga", "Ganges", "Shannon", "Tagus", "Loire", "Elbe",
        "Zambezi", "Colorado", "Columbia", "Orinoco", "Indus", "Douro", "Vltava", "Tiber",
        "Severn", "Liffey", "Clyde", "Rhône", "Po", "Oder", "Vistula", "Ebro", "Niger",
        "Congo", "Yukon", "Murray", "Tay", "Tweed", "Dnieper", "Garonne",
    ),
    "scientists": (
        "Curie", "Turing", "Lovelace", "Hopper", "Tesla", "Faraday", "Darwin", "Franklin",
        "Newton", "Galileo", "Noether", "Hypatia", "Kepler", "Bohr", "Meitner", "Pasteur",
        "Feynman", "Raman", "Ramanujan", "Hawking", "Goodall", "Carson", "Sagan", "Banneker",
        "Fleming", "Mendel", "Planck", "Euler", "Gauss", "Babbage", "Shannon", "Hodgkin",
        "Lamarr", "Wu", "Yalow", "Salk", "Maxwell", "Boyle", "Cavendish", "Herschel",
    ),
    "painters": (
        "Monet", "Kahlo", "Hokusai", "Vermeer", "Matisse", "Rembrandt", "O'Keeffe", "Klimt",
        "Turner", "Miró", "Cézanne", "Basquiat", "Kandinsky", "Munch", "Rothko", "Goya",
        "Renoir", "Degas", "Hockney", "Warhol", "Magritte", "Dalí", "Pollock", "Constable",
        "Botticelli", "Caravaggio", "Titian", "Modigliani", "Chagall", "Sorolla", "Mucha",
        "Rivera", "Hopper", "Cassatt", "Morisot", "Gauguin", "Seurat", "Bacon", "Riley",
        "Hepworth",
    ),
    "islands": (
        "Skye", "Bali", "Capri", "Crete", "Madeira", "Iona", "Sicily", "Corfu", "Zanzibar",
        "Tasmania", "Mallorca", "Santorini", "Gotland", "Jersey", "Anglesey", "Lewis",
        "Mull", "Arran", "Islay", "Orkney", "Hokkaido", "Kauai", "Maui", "Tenerife",
        "Lanzarote", "Sardinia", "Elba", "Rhodes", "Naxos", "Bornholm", "Texel", "Sylt",
        "Rügen", "Faial", "Azores", "Socotra", "Palawan", "Borneo", "Java", "Fiji",
    ),
}
HUDDLE_LETTERS: Final[str] = "ABCDEFGHJKLMNPQRSTUVWXYZ"
SPACE_BASE_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "break_room": ("Kitchen", "Café", "Break Room", "Pantry", "Lounge", "Tea Point"),
    "storage": ("Storage", "Supply Room", "Mail Room", "Archive Room", "IT Storage",
                "Furniture Store", "Janitor's Closet"),
    "server_room": ("Server Room", "Comms Room", "MDF Room", "IDF Closet"),
    "lab": ("Prototype Lab", "Hardware Lab", "UX Research Lab", "Device Test Lab",
            "Electronics Lab", "Innovation Lab", "Maker Space", "Usability Lab"),
    "other": ("Wellness Room", "Parents' Room", "Prayer and Reflection Room", "Phone Booth",
              "Print Area", "Locker Room", "First Aid Room", "Quiet Room", "Focus Pod",
              "Bike Store"),
    "reception": ("Main Reception", "Reception", "Visitor Lobby"),
}
RESTROOM_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "US": ("Restroom (Women)", "Restroom (Men)", "All-Gender Restroom", "Accessible Restroom"),
    "UK": ("Toilets (Women)", "Toilets (Men)", "Accessible Toilet", "All-Gender Toilets"),
    "EU": ("WC (Women)", "WC (Men)", "Accessible WC", "All-Gender WC"),
}
SPACE_DESCRIPTIONS: Final[dict[str, tuple[str, ...]]] = {
    "workstation": ("Sit-stand desk, dual monitors", "Window seat", "Near the kitchen",
                    "Single monitor, docking station", "Sit-stand desk", "Quiet zone",
                    "Team neighbourhood desk"),
    "office": ("Corner office", "Window office", "Small office, meeting table for 2",
               "Shared office"),
    "hoteling_desk": ("Bookable via the desk app", "Dual monitors, USB-C dock",
                      "Standing desk"),
    "meeting_room": ('75" display, Teams Room', "Whiteboard wall, Zoom Room",
                     "Video bar, wireless presentation", "Glass-walled, blinds"),
    "huddle_room": ("Wall display, no VC", "Video bar", "Acoustic panels"),
    "conference_room": ("Divisible by partition, catering access", "Boardroom table, dual displays",
                        "Hybrid-ready, ceiling microphones"),
    "lab": ("ESD-protected benches", "Restricted access", "Fume cupboard"),
    "storage": ("Key held at reception", "Restricted access"),
    "server_room": ("Badge access, FM-200 suppression", "Cooling: in-row units"),
    "break_room": ("Coffee machine, fridges, dishwasher", "Seating for team lunches"),
    "parking_space": ("EV charging", "Accessible bay", "Reserved", "Compact car"),
    "other": ("Bookable, lockable", "Access via reception"),
}
DEPARTMENTS: Final[tuple[str, ...]] = (
    "Finance", "Legal", "Marketing", "Engineering", "Sales", "People", "Customer Success",
    "Product", "Data & Analytics", "Procurement", "IT", "Facilities", "Operations",
    "Design", "Security", "Compliance", "Partnerships", "Research",
)

# ---------------------------------------------------------------------------------------
# Assets


@dataclass(frozen=True)
class Category:
    """An asset category with the makes and models that belong to it.

    Attributes:
        name: the ``categoryName`` (``Laptop``).
        weight: how common it is relative to the others.
        space_types: the Location types an asset of this kind stands in.
        personal: assigned to a person (``ownerName``).
        naming: ``owner`` ("Laptop – Priya Sharma"), ``space`` ("Projector – Meeting Room
            Everest") or ``host`` (a host name such as ``nyc-riv-sw-03``).
        criticality: relative weights of low, medium, high.
        models: (make, model, serial pattern) with ``X`` = letter or digit, ``9`` = digit.
        tag_prefix: the asset tag series (``AST``, ``FAC``).
        host_abbr: for ``host`` naming, the device abbreviation.
        descriptions: optional description texts.
    """

    name: str
    weight: float
    space_types: tuple[str, ...]
    personal: bool
    naming: str
    criticality: tuple[float, float, float]
    models: tuple[tuple[str, str, str], ...]
    tag_prefix: str = "AST"
    host_abbr: str = ""
    descriptions: tuple[str, ...] = ()


_DESK_SPACES = ("workstation", "office", "hoteling_desk")
_ROOMS = ("meeting_room", "conference_room", "huddle_room")

CATEGORIES: Final[tuple[Category, ...]] = (
    Category("Laptop", 14, ("workstation", "office"), True, "owner", (6, 3, 1), (
        ("Dell", "Latitude 7440", "XXXXXXX"), ("Dell", "Latitude 5540", "XXXXXXX"),
        ("Lenovo", "ThinkPad T14 Gen 4", "PF9XXXXX"),
        ("Lenovo", "ThinkPad X1 Carbon Gen 11", "PF9XXXXX"),
        ("Apple", 'MacBook Pro 14" (M3)', "C02XX9XXXXXX"), ("Apple", 'MacBook Air 13" (M2)',
                                                            "FVFXX9XXXXXX"),
        ("HP", "EliteBook 840 G10", "5CG9999XXX"),
    ), descriptions=("16 GB RAM, 512 GB SSD", "32 GB RAM, 1 TB SSD", "Encrypted, MDM enrolled",
                     "Loaner pool device")),
    Category("Monitor", 22, _DESK_SPACES, False, "space", (9, 1, 0), (
        ("Dell", "UltraSharp U2723QE", "CN-0XXXXX-99999-999-XXXX"), ("Dell", "P2422H",
                                                                    "CN-0XXXXX-99999-999-XXXX"),
        ("LG", "27UK850-W", "999XXXX99999"), ("Samsung", "ViewFinity S8", "XXXX9XXX999999X"),
        ("HP", "E24 G5", "CN49999XXX"),
    )),
    Category("Docking station", 9, _DESK_SPACES, False, "space", (9, 1, 0), (
        ("Dell", "WD19S", "XXXXXXX"), ("Lenovo", "ThinkPad Universal USB-C Dock", "ZXXX9XXXX"),
        ("HP", "USB-C Dock G5", "5CG9999XXX"),
    )),
    Category("Desk", 12, ("workstation", "office", "hoteling_desk"), False, "space",
             (10, 0, 0), (
        ("Steelcase", "Migration SE", "SC-99999999"),
        ("Herman Miller", "Renew Sit-to-Stand", "HM9999999X"),
        ("Knoll", "Antenna Workspaces", "KN-9999999"),
        ("Humanscale", "Float", "HS99999999"),
    ), descriptions=("Sit-stand, 160 x 80 cm", "Fixed height", "Sit-stand, memory presets")),
    Category("Chair", 14, ("workstation", "office", "hoteling_desk"), False, "space",
             (10, 0, 0), (
        ("Herman Miller", "Aeron", "HM9999999X"), ("Steelcase", "Leap V2", "SC-99999999"),
        ("Steelcase", "Gesture", "SC-99999999"), ("Haworth", "Fern", "HW-999999"),
        ("Humanscale", "Freedom", "HS99999999"),
    )),
    Category("Desk phone", 4, ("workstation", "office", "reception"), False, "space",
             (7, 3, 0), (
        ("Cisco", "IP Phone 8845", "FCH9999X9XX"), ("Poly", "VVX 450", "6416XXXXXXXX"),
        ("Yealink", "T54W", "8019999999999999"),
    )),
    Category("Headset", 3, ("workstation", "office"), True, "owner", (10, 0, 0), (
        ("Jabra", "Evolve2 65", "XX9999999999"), ("Poly", "Voyager Focus 2", "9XXXXXXXX"),
    )),
    Category("Mobile phone", 3, ("workstation", "office"), True, "owner", (5, 4, 1), (
        ("Apple", "iPhone 15", "XXXXXXXXXX"), ("Samsung", "Galaxy S23", "R5XX999XXXX"),
        ("Google", "Pixel 8", "99999XXX999999"),
    ), descriptions=("Corporate line, MDM enrolled", "On-call phone")),
    Category("Printer", 1.2, ("other", "storage", "break_room", "reception"), False, "space",
             (2, 6, 2), (
        ("HP", "LaserJet Enterprise M611dn", "PHX9X99999"),
        ("HP", "Color LaserJet Pro MFP M479fdw", "VNB9X99999"),
        ("Canon", "imageRUNNER ADVANCE DX C5840i", "3HX99999"),
        ("Xerox", "VersaLink C405", "3399999999"), ("Ricoh", "IM C3000", "3089X999999"),
    ), descriptions=("Follow-me printing enabled", "A3 capable", "Toner on auto-replenish")),
    Category("Projector", 0.6, ("meeting_room", "conference_room"), False, "space", (4, 5, 1), (
        ("Epson", "PowerLite L610U", "X9XX9999999"), ("Epson", "EB-L200F", "X9XX9999999"),
        ("BenQ", "LU710", "PDX99999999"), ("Sony", "VPL-PHZ61", "9999999"),
    )),
    Category("Meeting room display", 1, _ROOMS, False, "space", (4, 5, 1), (
        ("Samsung", "QM65C", "0XXX9XXX999999X"), ("LG", "75UR640S", "999XXXX99999"),
        ("Sony", "BRAVIA FW-65BZ30L", "9999999"),
    )),
    Category("Videoconference unit", 1, _ROOMS, False, "space", (1, 6, 3), (
        ("Poly", "Studio X50", "8L2X99999XXX"), ("Poly", "Studio X30", "8L2X99999XXX"),
        ("Cisco", "Webex Room Kit Mini", "FOC9999X9XX"), ("Logitech", "Rally Bar",
                                                          "2999XX99XX99"),
        ("Neat", "Bar", "NB99999999999"),
    ), descriptions=("Microsoft Teams Rooms", "Zoom Rooms", "Webex device, cloud registered")),
    Category("Room scheduling panel", 1, _ROOMS, False, "space", (6, 4, 0), (
        ("Logitech", "Tap Scheduler", "2999XX99XX99"), ("Crestron", "TSS-770", "99999XXX9999"),
        ("Joan", "6 Pro", "JX-999999"),
    )),
    Category("Network switch", 0.5, ("server_room",), False, "host", (0, 2, 8), (
        ("Cisco", "Catalyst 9300-48P", "FOC9999X9XX"), ("Aruba", "CX 6300M", "SG99XXX999"),
        ("Juniper", "EX4400-48P", "XX9999999999"),
    ), host_abbr="sw"),
    Category("Wireless access point", 1.2, ("workstation", "meeting_room", "break_room",
                                             "reception", "other"), False, "host", (1, 7, 2), (
        ("Cisco", "Meraki MR46", "Q2XX-XXXX-XXXX"), ("Aruba", "AP-535", "CNX9XXX999"),
        ("Ubiquiti", "U6 Enterprise", "XXXXXXXXXXXX"),
    ), host_abbr="ap", descriptions=("Ceiling mounted", "PoE+ powered")),
    Category("Server", 0.3, ("server_room",), False, "host", (0, 2, 8), (
        ("Dell", "PowerEdge R760", "XXXXXXX"), ("HPE", "ProLiant DL380 Gen11", "CZ9999XXXX"),
    ), host_abbr="srv", descriptions=("Print and file services", "Local domain controller",
                                      "Building management gateway")),
    Category("Server rack", 0.15, ("server_room",), False, "host", (0, 3, 7), (
        ("APC", "NetShelter SX 42U", "ZA9999999999"), ("Vertiv", "VR3100 42U", "9999XX999999"),
    ), host_abbr="rack"),
    Category("UPS", 0.3, ("server_room",), False, "host", (0, 2, 8), (
        ("APC", "Smart-UPS SRT 3000VA", "AS9999999999"), ("Eaton", "9PX 3000", "GX999X9999"),
    ), tag_prefix="FAC", host_abbr="ups"),
    Category("HVAC unit", 0.35, ("storage", "other", "server_room"), False, "space", (0, 3, 7), (
        ("Daikin", "VRV IV", "E999999"), ("Carrier", "WeatherMaker 48/50", "4999X99999"),
        ("Trane", "IntelliPak", "X99X99999"), ("Mitsubishi Electric", "City Multi",
                                               "99X99999"),
    ), tag_prefix="FAC", descriptions=("Quarterly filter change", "Serves north wing",
                                       "Under maintenance contract")),
    Category("Access control reader", 0.6, ("reception", "server_room", "lab", "storage"),
             False, "space", (0, 2, 8), (
        ("HID", "Signo 40", "X9999999"), ("HID", "iCLASS SE R40", "X9999999"),
        ("LenelS2", "OnGuard OSDP reader", "LN999999"),
    ), tag_prefix="FAC"),
    Category("Security camera", 0.6, ("reception", "parking_space", "other", "break_room"),
             False, "space", (1, 4, 5), (
        ("Axis", "P3265-LVE", "ACCC8E999999"), ("Hanwha", "XNV-8081Z", "ZX99X9999X"),
        ("Verkada", "CD52", "XXXX-XXXX-XXXX"),
    ), tag_prefix="FAC"),
    Category("Refrigerator", 0.2, ("break_room",), False, "space", (8, 2, 0), (
        ("Bosch", "KGN39VLEB", "999999999999"), ("Liebherr", "CNsfd 5203", "99.999.999.9"),
    ), tag_prefix="FAC"),
    Category("Coffee machine", 0.3, ("break_room",), False, "space", (7, 3, 0), (
        ("Franke", "A600", "999999999"), ("Jura", "GIGA X8", "99999"),
        ("Bunn", "Sure Immersion 312", "SIX999999"),
    ), tag_prefix="FAC"),
    Category("Water dispenser", 0.2, ("break_room",), False, "space", (8, 2, 0), (
        ("Elkay", "ezH2O LZS8WSLK", "999999999"), ("Brita", "VIVREAU Top 85", "99999999"),
    ), tag_prefix="FAC"),
    Category("Fire extinguisher", 1, ("break_room", "storage", "reception", "server_room",
                                       "other", "lab"), False, "space", (0, 1, 9), (
        ("Amerex", "B402", "XX999999"), ("Kidde", "Pro 5 MP", "XX999999"),
        ("Gloria", "PD 6 GA", "9999999"),
    ), tag_prefix="FAC", descriptions=("6 kg ABC powder", "2 kg CO2", "Annual service due")),
    Category("Defibrillator (AED)", 0.1, ("reception", "break_room"), False, "space",
             (0, 0, 1), (
        ("Philips", "HeartStart FRx", "B99X-99999"), ("ZOLL", "AED Plus", "X99X999999"),
    ), tag_prefix="FAC"),
    Category("Oscilloscope", 0.2, ("lab",), False, "space", (5, 4, 1), (
        ("Keysight", "InfiniiVision DSOX1204G", "CN99999999"), ("Tektronix", "MSO44",
                                                               "C099999"),
    )),
    Category("3D printer", 0.1, ("lab",), False, "space", (6, 4, 0), (
        ("Formlabs", "Form 3+", "FORM3-XXXXXXXX"), ("UltiMaker", "S5", "9999999999"),
    )),
    Category("EV charger", 0.2, ("parking_space",), False, "space", (2, 7, 1), (
        ("ChargePoint", "CPF50", "9999999999"), ("Wallbox", "Pulsar Plus", "999999"),
    ), tag_prefix="FAC"),
)

# ---------------------------------------------------------------------------------------
# Visitors and moves

VISITOR_COMPANIES: Final[tuple[str, ...]] = (
    "Aldergrove Consulting", "Bluefin Analytics", "Cobalt Ridge Partners",
    "Harbourline Logistics", "Kestrel Engineering", "Lumen & Vale LLP",
    "Marlow Facility Services", "Northgate Security", "Orchard Health", "Pinecrest Capital",
    "Quayside Media", "Redwood Legal", "Sableworks", "Tessellate Design Studio", "Upland Power",
    "Verdant Catering", "Westbrook Recruitment", "Yarrow Labs", "Brightpath Learning",
    "Clearwater Audit", "Fennimore & Co", "Greyhawk Systems", "Ironbridge Insurance",
    "Juniper Street Ventures", "Larkspur Events", "Moorfield Architects", "Nimbus Cloud Services",
    "Oakhurst Advisory", "Peregrine Software", "Rowan Translation", "Silverline Telecom",
    "Thistle Print", "Vantage Point Research", "Wexford Interiors", "Zenith Elevators",
)
CONTRACTORS: Final[tuple[str, ...]] = (
    "Otis", "Schindler", "Johnson Controls", "Siemens Smart Infrastructure",
    "ISS Facility Services", "CBRE", "JLL", "Sodexo", "Aramark", "Rentokil Initial",
    "Marlow Facility Services", "Zenith Elevators", "Wexford Interiors",
)
COURIERS: Final[tuple[str, ...]] = (
    "DHL Express", "FedEx", "UPS", "DPD", "Royal Mail", "Amazon Logistics", "GLS", "PostNL",
)
VISIT_NOTES: Final[dict[str, tuple[str, ...]]] = {
    "visitor": ("Parking space requested", "Needs guest Wi-Fi", "Wheelchair access",
                "Bringing a laptop; needs a visitor network code", "Lunch booked for 2",
                "Escort from reception"),
    "contractor": ("HVAC maintenance: escort to plant room", "Access to the riser on level 4",
                   "Lift inspection", "Fire alarm test; notify security",
                   "Permit to work required", "Replacing ceiling tiles"),
    "interview": ("Interview panel at 10:30", "Technical interview, 2 hours",
                  "Final round with the director", "Please offer refreshments"),
    "vendor": ("Quarterly business review", "Product demo in the boardroom",
               "Contract renewal meeting", "Bringing samples"),
    "delivery": ("Large parcel: call host on arrival", "Pallet delivery via loading bay",
                 "Signature required", "Temperature sensitive"),
}
MOVE_NOTES: Final[tuple[str, ...]] = (
    "Crates delivered two days before the move.", "IT to reconnect docking stations.",
    "Access badges to be updated on the day.", "Keys to be collected from reception.",
    "Movers booked for 18:00 after hours.", "Check cable management on new desks.",
    "Confirm with the team lead before approving.", "Label every crate with the new desk code.",
    "Furniture stays; personal items only.", "Security to disable the old badge at 17:00.",
)
INTEGRATION_COMPANIES: Final[tuple[tuple[str, str], ...]] = (
    ("Meridian Workplace Group", "meridianwg.com"),
    ("Halcyon Financial Services", "halcyonfs.com"),
    ("Brightwater Pharmaceuticals", "brightwater-pharma.com"),
    ("Northstar Logistics", "northstarlogistics.com"),
    ("Aurelia Software", "aurelia.io"),
    ("Ravensbourne Engineering", "ravensbourne-eng.com"),
)
