/**
 * Word pools for the synthetic source. Deliberately international: accents, CJK, Cyrillic, Arabic,
 * Hangul, emoji (4-byte UTF-8, so MySQL needs utf8mb4) and combining marks, because SPEC §5 says odd
 * Unicode must arrive intact. Pools are built once; rows pick from them by index.
 */

export const CARRIERS: readonly string[] = [
  'SF Express 顺丰速运',
  'DHL eCommerce',
  'Yamato ヤマト運輸',
  'Correos Exprés',
  'La Poste Colissimo',
  'Poste Italiane',
  'UPS',
  'FedEx',
  'Royal Mail',
  'J&T Express',
  'Cainiao 菜鸟',
  'CJ대한통운',
  'Почта России',
  'PostNL',
  'Østlandspost 📮',
];

const CITIES: readonly string[] = [
  'São Paulo',
  'Zürich',
  'Kraków',
  'Málaga',
  'Reykjavík',
  'Ærøskøbing',
  'İstanbul',
  'Łódź',
  'Montréal',
  'Köln',
  'Bogotá',
  'Hà Nội',
  'Thành phố Hồ Chí Minh',
  '東京都江戸川区',
  '大阪市',
  '上海市浦东新区',
  '深圳市南山区',
  '北京市朝阳区',
  '廣州市',
  '서울특별시 강남구',
  '부산광역시',
  'Москва',
  'Санкт-Петербург',
  'القاهرة',
  'دبي',
  'תל אביב',
  'Αθήνα',
  'กรุงเทพมหานคร',
  'मुंबई',
  'Jakarta',
  'Nairobi',
  'Lagos',
  'Chicago',
  'Los Angeles',
  'Zaragoza',
  'Göteborg',
  'Ciudad de México',
  'Curaçao',
  'Genève',
  'Ljubljana',
];

const FACILITIES: readonly string[] = [
  'Sorting Center',
  '分拨中心',
  'Hub',
  'Centre de tri',
  'Depot 📦',
  'Verteilzentrum',
  '集配センター',
  '물류센터',
  'сортировочный центр',
  'Delivery Station 🚚',
];

const FIRST_NAMES: readonly string[] = [
  'José',
  'Zoë',
  'François',
  'Ólafur',
  'Nguyễn Văn',
  'Søren',
  'Çağla',
  'Łucja',
  'Ana',
  'Chloé',
  'Mateus',
  'Анна',
  'Αλέξανδρος',
  'محمد',
  'יעל',
  'Renée',
  'Jürgen',
  'Siobhán',
  'Ngozi',
  'Priya',
];

const LAST_NAMES: readonly string[] = [
  'Álvarez',
  'Müller',
  'Þórðarson',
  'Dubois',
  'Nowak',
  'Kowalczyk',
  'Øvergård',
  'Yılmaz',
  'Иванова',
  'Παπαδόπουλος',
  'García-Peña',
  "O'Brien",
  'de la Cruz',
  'Smith 👩‍💻',
  'Nakamura',
];

// Full names that do not follow "first last".
const WHOLE_NAMES: readonly string[] = [
  '王小明',
  '李雪',
  '佐藤 花子',
  '田中 太郎',
  '김민준',
  '박서연',
  'Đặng Thị Mỹ',
  'Zoe\u0308 Mu\u0308ller', // combining diaeresis, not precomposed
  'Ａｋｉｒａ　Ｓａｉｔｏ', // full-width letters and space
  '🐼 Panda Shop',
];

const STREETS: readonly string[] = [
  'Rua Augusta 1500',
  'Bahnhofstrasse 12',
  'ul. Floriańska 7',
  'Calle de Alcalá 45',
  '1-2-3 丸の内',
  '南京东路 100号',
  '테헤란로 152',
  'Тверская ул., 7',
  '12 Rue de Rivoli',
  '221B Baker Street',
  'Av. Paulista, 1578 — 5º andar',
  'شارع التحرير 10',
];

const REMARKS: readonly string[] = [
  'Left at front door',
  'Signed by: Zoë',
  '已签收，签收人：本人',
  '不在のため持ち戻り',
  '주소 불명',
  'Адресат отсутствует',
  'Colis endommagé — photo jointe',
  'Customs hold: documents requested 📄',
  'Weather delay ⛈️',
  'Delivered to parcel locker 🔐',
  'Recipient refused',
  'Address corrected by customer',
  // Long remarks close to VARCHAR(255), mixing multi-byte characters.
  (
    'Paket beschädigt, Inhalt geprüft und neu verpackt; Empfänger informiert. ' +
    '包裹外箱破损，已重新包装并通知收件人。 ' +
    'Le colis a été reconditionné. 📦✅ '
  )
    .repeat(2)
    .slice(0, 250),
  'x'.repeat(255),
];

/** Tracking statuses along a normal lifecycle (uni_tracking_info.status). */
export const STATUS = {
  pickedUp: 'PICKED_UP',
  inTransit: 'IN_TRANSIT',
  arrivedAtHub: 'ARRIVED_AT_HUB',
  departedHub: 'DEPARTED_HUB',
  customs: 'CUSTOMS_CLEARANCE',
  failedAttempt: 'DELIVERY_FAILED',
  outForDelivery: 'OUT_FOR_DELIVERY',
  delivered: 'DELIVERED',
  returnRequested: 'RETURN_REQUESTED',
  returned: 'RETURNED',
} as const;

/** Statuses between pick-up and out-for-delivery, in rotation. */
export const MIDDLE_STATUSES: readonly string[] = [
  STATUS.inTransit,
  STATUS.arrivedAtHub,
  STATUS.departedHub,
  STATUS.inTransit,
  STATUS.arrivedAtHub,
  STATUS.departedHub,
  STATUS.customs,
  STATUS.failedAttempt,
];

/** Scan types recorded with each status (uni_tracking_spath.scan_type). */
export const SCAN_TYPES: Readonly<Record<string, readonly string[]>> = {
  [STATUS.pickedUp]: ['PICKUP', 'ACCEPTANCE'],
  [STATUS.inTransit]: ['LINEHAUL', 'DEPARTURE', 'ARRIVAL'],
  [STATUS.arrivedAtHub]: ['ARRIVAL', 'SORTING', 'INBOUND'],
  [STATUS.departedHub]: ['SORTING', 'OUTBOUND', 'DEPARTURE'],
  [STATUS.customs]: ['CUSTOMS_IN', 'CUSTOMS_OUT'],
  [STATUS.failedAttempt]: ['DELIVERY_ATTEMPT', 'EXCEPTION'],
  [STATUS.outForDelivery]: ['OUT_FOR_DELIVERY', 'COURIER_ASSIGNED'],
  [STATUS.delivered]: ['DELIVERY', 'POD'],
  [STATUS.returnRequested]: ['RETURN_PICKUP', 'EXCEPTION'],
  [STATUS.returned]: ['RETURN_DELIVERY', 'POD'],
};

function cross(a: readonly string[], b: readonly string[], join: (x: string, y: string) => string) {
  return a.flatMap((x) => b.map((y) => join(x, y)));
}

/** Current location of a parcel (uni_tracking_info.location). */
export const LOCATIONS: readonly string[] = cross(CITIES, FACILITIES, (c, f) => `${c} ${f}`);

/** Scan sites (uni_tracking_spath.scan_site), with a site code. */
export const SCAN_SITES: readonly string[] = LOCATIONS.map(
  (loc, i) => `${loc} #${String(100 + ((i * 37) % 900))}`,
);

/** Customer names (ecs_order_info.customer_name). */
export const CUSTOMER_NAMES: readonly string[] = [
  ...cross(FIRST_NAMES, LAST_NAMES, (f, l) => `${f} ${l}`),
  ...WHOLE_NAMES,
];

/** Destination addresses (ecs_order_info.destination). */
export const DESTINATIONS: readonly string[] = cross(STREETS, CITIES, (s, c) => `${s}, ${c}`);

/** Scan remarks; most scans have none. */
export const SCAN_REMARKS: readonly string[] = REMARKS;
