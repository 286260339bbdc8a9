// Seeded short English documents and queries for the ingest benchmark: one or two plain
// sentences on one of a dozen everyday topics, built from common words that the default model
// (GloVe, the 50,000 most frequent words) knows, so every text has a real vector. The same seed
// gives the same texts on every machine (the project's mulberry32 PRNG).
import { seededRandom } from '../../src/util/random.mjs';

interface Topic {
  subjects: string[];
  adjectives: string[];
  verbs: string[];
  objects: string[];
  places: string[];
}

const TOPICS: Topic[] = [
  {
    subjects: ['the chef', 'my grandmother', 'the baker', 'our neighbour', 'the cook', 'the waiter'],
    adjectives: ['fresh', 'warm', 'spicy', 'sweet', 'crispy', 'delicious', 'homemade', 'salty'],
    verbs: ['baked', 'cooked', 'served', 'tasted', 'prepared', 'sliced', 'roasted', 'seasoned'],
    objects: ['bread', 'soup', 'pasta', 'chicken', 'cake', 'vegetables', 'rice', 'pie', 'sauce', 'salad'],
    places: ['kitchen', 'restaurant', 'bakery', 'oven', 'market', 'cafe'],
  },
  {
    subjects: ['the pilot', 'the tourist', 'the traveller', 'my cousin', 'the driver', 'the guide'],
    adjectives: ['early', 'long', 'delayed', 'crowded', 'cheap', 'comfortable', 'overnight', 'scenic'],
    verbs: ['booked', 'missed', 'boarded', 'cancelled', 'caught', 'planned', 'reserved', 'changed'],
    objects: ['flight', 'train', 'ticket', 'hotel', 'bus', 'ferry', 'taxi', 'journey', 'passport'],
    places: ['airport', 'station', 'harbour', 'border', 'city', 'coast'],
  },
  {
    subjects: ['the coach', 'the striker', 'the captain', 'the team', 'the goalkeeper', 'the referee'],
    adjectives: ['final', 'difficult', 'exciting', 'important', 'home', 'weekly', 'friendly', 'late'],
    verbs: ['won', 'lost', 'played', 'scored', 'watched', 'trained', 'celebrated', 'missed'],
    objects: ['match', 'game', 'goal', 'season', 'penalty', 'championship', 'tournament', 'race'],
    places: ['stadium', 'field', 'court', 'gym', 'track', 'league'],
  },
  {
    subjects: ['the farmer', 'the gardener', 'my father', 'the old man', 'the volunteer', 'the florist'],
    adjectives: ['green', 'tall', 'wild', 'young', 'healthy', 'dry', 'colourful', 'small'],
    verbs: ['planted', 'watered', 'picked', 'cut', 'grew', 'harvested', 'trimmed', 'moved'],
    objects: ['roses', 'trees', 'tomatoes', 'flowers', 'grass', 'seeds', 'apples', 'potatoes', 'herbs'],
    places: ['garden', 'farm', 'field', 'greenhouse', 'orchard', 'park'],
  },
  {
    subjects: ['the engineer', 'the developer', 'the company', 'the student', 'the manager', 'the team'],
    adjectives: ['new', 'faster', 'secure', 'broken', 'small', 'popular', 'expensive', 'reliable'],
    verbs: ['installed', 'tested', 'released', 'repaired', 'updated', 'designed', 'replaced', 'built'],
    objects: ['software', 'laptop', 'server', 'phone', 'network', 'database', 'website', 'printer', 'camera'],
    places: ['office', 'factory', 'laboratory', 'warehouse', 'school', 'company'],
  },
  {
    subjects: ['the doctor', 'the nurse', 'the patient', 'my sister', 'the surgeon', 'the pharmacist'],
    adjectives: ['severe', 'mild', 'regular', 'painful', 'daily', 'serious', 'minor', 'quick'],
    verbs: ['treated', 'checked', 'prescribed', 'described', 'reported', 'examined', 'avoided', 'noticed'],
    objects: ['fever', 'injury', 'headache', 'medicine', 'infection', 'symptoms', 'vaccine', 'treatment'],
    places: ['hospital', 'clinic', 'pharmacy', 'ward', 'surgery', 'village'],
  },
  {
    subjects: ['the band', 'the singer', 'the pianist', 'the orchestra', 'my brother', 'the drummer'],
    adjectives: ['loud', 'beautiful', 'quiet', 'famous', 'classical', 'popular', 'sad', 'live'],
    verbs: ['performed', 'recorded', 'wrote', 'played', 'sang', 'rehearsed', 'composed', 'released'],
    objects: ['song', 'album', 'concert', 'melody', 'guitar', 'piano', 'symphony', 'show'],
    places: ['theatre', 'studio', 'festival', 'club', 'church', 'hall'],
  },
  {
    subjects: ['the investor', 'the bank', 'the director', 'the government', 'the firm', 'the shop'],
    adjectives: ['annual', 'higher', 'lower', 'quarterly', 'strong', 'weak', 'total', 'global'],
    verbs: ['reported', 'raised', 'cut', 'announced', 'paid', 'expected', 'invested', 'reduced'],
    objects: ['profits', 'prices', 'taxes', 'sales', 'wages', 'costs', 'shares', 'loans', 'budget'],
    places: ['market', 'economy', 'industry', 'region', 'country', 'sector'],
  },
  {
    subjects: ['the storm', 'the wind', 'the forecast', 'the river', 'the snow', 'the rain'],
    adjectives: ['heavy', 'cold', 'strong', 'sudden', 'freezing', 'hot', 'dark', 'bright'],
    verbs: ['flooded', 'damaged', 'covered', 'closed', 'blocked', 'cooled', 'reached', 'hit'],
    objects: ['roads', 'bridges', 'houses', 'valley', 'streets', 'fields', 'beaches', 'mountains'],
    places: ['north', 'south', 'island', 'town', 'coast', 'county'],
  },
  {
    subjects: ['the teacher', 'the professor', 'the pupils', 'the class', 'the librarian', 'the author'],
    adjectives: ['short', 'difficult', 'simple', 'history', 'science', 'long', 'written', 'final'],
    verbs: ['read', 'explained', 'studied', 'published', 'reviewed', 'graded', 'discussed', 'translated'],
    objects: ['book', 'lesson', 'exam', 'essay', 'lecture', 'novel', 'chapter', 'report', 'poem'],
    places: ['library', 'classroom', 'university', 'school', 'college', 'museum'],
  },
  {
    subjects: ['the scientist', 'the researcher', 'the astronomer', 'the biologist', 'the chemist', 'the crew'],
    adjectives: ['distant', 'rare', 'ancient', 'tiny', 'bright', 'unusual', 'frozen', 'massive'],
    verbs: ['discovered', 'observed', 'measured', 'found', 'analysed', 'collected', 'identified', 'photographed'],
    objects: ['planet', 'star', 'bacteria', 'fossil', 'crystal', 'comet', 'species', 'samples', 'galaxy'],
    places: ['telescope', 'desert', 'ocean', 'cave', 'laboratory', 'glacier'],
  },
  {
    subjects: ['the family', 'the landlord', 'my parents', 'the builder', 'the painter', 'our friends'],
    adjectives: ['old', 'large', 'empty', 'wooden', 'modern', 'spacious', 'narrow', 'bright'],
    verbs: ['painted', 'cleaned', 'sold', 'bought', 'rented', 'decorated', 'repaired', 'visited'],
    objects: ['house', 'apartment', 'kitchen', 'bedroom', 'roof', 'door', 'window', 'furniture', 'garage'],
    places: ['street', 'village', 'neighbourhood', 'suburb', 'town', 'city'],
  },
];

const TIMES = ['yesterday', 'last week', 'this morning', 'on monday', 'in the evening', 'after lunch', 'last year', 'before dawn', 'on friday night', 'in the spring', 'during the holiday', 'at noon'];
const ADVERBS = ['quickly', 'carefully', 'slowly', 'again', 'finally', 'suddenly', 'happily', 'twice', 'early', 'quietly'];
const CONNECT = ['because', 'although', 'while', 'so', 'but', 'and then'];
const NUMBERS = ['two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'twelve', 'twenty', 'fifty', 'forty'];

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function sentence(rand: () => number, t: Topic): string {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
  switch (Math.floor(rand() * 5)) {
    case 0:
      return `${cap(pick(t.subjects))} ${pick(t.verbs)} the ${pick(t.adjectives)} ${pick(t.objects)} at the ${pick(t.places)} ${pick(TIMES)}.`;
    case 1:
      return `${cap(pick(TIMES))}, ${pick(t.subjects)} ${pick(ADVERBS)} ${pick(t.verbs)} ${pick(NUMBERS)} ${pick(t.adjectives)} ${pick(t.objects)} near the ${pick(t.places)}.`;
    case 2:
      return `${cap(pick(t.subjects))} ${pick(t.verbs)} the ${pick(t.objects)} ${pick(CONNECT)} ${pick(t.subjects)} ${pick(t.verbs)} the ${pick(t.adjectives)} ${pick(t.objects)}.`;
    case 3:
      return `At the ${pick(t.adjectives)} ${pick(t.places)}, ${pick(t.subjects)} ${pick(ADVERBS)} ${pick(t.verbs)} the ${pick(t.objects)}.`;
    default:
      return `The ${pick(t.objects)} was ${pick(t.verbs)} by ${pick(t.subjects)} in the ${pick(t.places)} ${pick(TIMES)}.`;
  }
}

/**
 * n distinct documents of one or two sentences (about 60–180 characters), each on one topic.
 * Different seeds give (almost surely) different texts, so repeats against one server never hit
 * its embedding cache; a repeat within a seed is redrawn.
 */
export function englishDocuments(n: number, seed: number, opts: { minSentences?: number; maxSentences?: number } = {}): string[] {
  return englishLabelledDocuments(n, seed, opts).map((d) => d.text);
}

/** The same documents with the number of the topic each was written on (a labelled set for maps and clusters). */
export function englishLabelledDocuments(n: number, seed: number, opts: { minSentences?: number; maxSentences?: number } = {}): { text: string; topic: number }[] {
  const rand = seededRandom(seed);
  const min = opts.minSentences ?? 1;
  const max = opts.maxSentences ?? 2;
  const seen = new Set<string>();
  const out: { text: string; topic: number }[] = [];
  while (out.length < n) {
    const topic = Math.floor(rand() * TOPICS.length);
    const k = min + Math.floor(rand() * (max - min + 1));
    const text = Array.from({ length: k }, () => sentence(rand, TOPICS[topic]!)).join(' ');
    if (seen.has(text)) continue;
    seen.add(text);
    out.push({ text, topic });
  }
  return out;
}

/** n short search phrases ("warm bread at the bakery"), the kind a person types. */
export function englishQueries(n: number, seed: number): string[] {
  const rand = seededRandom(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
  return Array.from({ length: n }, () => {
    const t = pick(TOPICS);
    return rand() < 0.5 ? `${pick(t.adjectives)} ${pick(t.objects)} at the ${pick(t.places)}` : `${pick(t.subjects)} ${pick(t.verbs)} the ${pick(t.objects)}`;
  });
}

/** Every distinct word the generator can write (to check them against a model's vocabulary). */
export function generatorWords(): string[] {
  const all = [...TOPICS.flatMap((t) => [...t.subjects, ...t.adjectives, ...t.verbs, ...t.objects, ...t.places]), ...TIMES, ...ADVERBS, ...CONNECT, ...NUMBERS, 'the', 'at', 'near', 'was', 'by', 'in'];
  return [...new Set(all.flatMap((s) => s.toLowerCase().split(/\s+/)))].sort();
}
