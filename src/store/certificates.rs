//! Rows of the table `certificates`: the PKCS#11 certificate objects of a cluster.

use rusqlite::{params, OptionalExtension, Row};

use super::{StoreError, Tx};

type Result<T> = std::result::Result<T, StoreError>;

/// One certificate object, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRecord {
    pub reference: i64,
    /// The crypto user who created it (certificates are public: this is a record, not an
    /// owner).
    pub creator: String,
    pub label: String,
    pub id: Vec<u8>,
    pub subject: Vec<u8>,
    pub issuer: Vec<u8>,
    pub serial_number: Vec<u8>,
    pub start_date: Vec<u8>,
    pub end_date: Vec<u8>,
    pub public_key_info: Vec<u8>,
    pub value: Vec<u8>,
}

const COLUMNS: &str = "reference, creator, label, id, subject, issuer, serial_number, \
                       start_date, end_date, public_key_info, value";

fn row(r: &Row<'_>) -> rusqlite::Result<CertificateRecord> {
    Ok(CertificateRecord {
        reference: r.get(0)?,
        creator: r.get(1)?,
        label: r.get(2)?,
        id: r.get(3)?,
        subject: r.get(4)?,
        issuer: r.get(5)?,
        serial_number: r.get(6)?,
        start_date: r.get(7)?,
        end_date: r.get(8)?,
        public_key_info: r.get(9)?,
        value: r.get(10)?,
    })
}

/// Every certificate, in reference order.
pub fn certificates(tx: &Tx<'_>) -> Result<Vec<CertificateRecord>> {
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM certificates ORDER BY reference"
    ))?;
    let rows = stmt.query_map([], row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn certificate(tx: &Tx<'_>, reference: i64) -> Result<Option<CertificateRecord>> {
    Ok(tx
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM certificates WHERE reference = ?1"
        ))?
        .query_row([reference], row)
        .optional()?)
}

/// Inserts `c`, or replaces the row of its reference.
pub fn put_certificate(tx: &Tx<'_>, c: &CertificateRecord) -> Result<()> {
    tx.execute(
        &format!(
            "INSERT OR REPLACE INTO certificates ({COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        ),
        params![
            c.reference,
            c.creator,
            c.label,
            c.id,
            c.subject,
            c.issuer,
            c.serial_number,
            c.start_date,
            c.end_date,
            c.public_key_info,
            c.value
        ],
    )?;
    Ok(())
}

/// Deletes the certificate `reference`; whether there was one.
pub fn delete_certificate(tx: &Tx<'_>, reference: i64) -> Result<bool> {
    Ok(tx.execute("DELETE FROM certificates WHERE reference = ?1", [reference])? > 0)
}
