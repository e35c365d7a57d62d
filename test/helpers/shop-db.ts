// A sample "shop" database for end-to-end tests and the demo, and table checksums to compare.
import type { MariaDB } from './mariadb.ts';

export const DB_USER = 'sidestash';
/** A password with characters that need quoting in an option file. */
export const DB_PASSWORD = 'p@ss"w\\ord #1;';

export async function createShop(db: MariaDB, rows = 20_000): Promise<void> {
  const pw = DB_PASSWORD.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  await db.sql(`CREATE USER '${DB_USER}'@'localhost' IDENTIFIED BY '${pw}'; CREATE USER '${DB_USER}'@'127.0.0.1' IDENTIFIED BY '${pw}';
    GRANT ALL PRIVILEGES ON *.* TO '${DB_USER}'@'localhost' WITH GRANT OPTION; GRANT ALL PRIVILEGES ON *.* TO '${DB_USER}'@'127.0.0.1' WITH GRANT OPTION;`);
  await db.sql(`CREATE DATABASE shop;
    CREATE TABLE shop.customers (id INT PRIMARY KEY, name VARCHAR(100), email VARCHAR(200), created DATETIME) ENGINE=InnoDB;
    CREATE TABLE shop.orders (id INT PRIMARY KEY AUTO_INCREMENT, customer_id INT, amount DECIMAL(10,2), note TEXT, KEY (customer_id)) ENGINE=InnoDB;
    CREATE DATABASE crm;
    CREATE TABLE crm.contacts (id INT PRIMARY KEY, phone VARCHAR(30)) ENGINE=InnoDB;
    INSERT INTO crm.contacts VALUES (1, '+49 30 1234'), (2, '+33 1 5678');`);
  await db.sql(`INSERT INTO shop.customers
      SELECT seq, CONCAT('customer ', seq), CONCAT('c', seq, '@example.com'), '2026-01-01' + INTERVAL seq MINUTE FROM seq_1_to_${Math.max(1, Math.floor(rows / 4))};
    INSERT INTO shop.orders (customer_id, amount, note)
      SELECT 1 + seq % ${Math.max(1, Math.floor(rows / 4))}, (seq * 7919 % 100000) / 100, REPEAT(CONCAT('note-', seq, ' '), 1 + seq % 7) FROM seq_1_to_${rows};`, 'shop');
  // Fresh table statistics, which the agent estimates a dump's size (and ETA) from.
  await db.sql('ANALYZE TABLE shop.customers, shop.orders, crm.contacts');
}

export async function checksums(db: MariaDB): Promise<string> {
  return db.sql('CHECKSUM TABLE shop.customers, shop.orders, crm.contacts EXTENDED');
}
