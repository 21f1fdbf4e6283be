//! A tiny ISO 7816-4 file system shared by the card models: DFs (optionally
//! named by an AID) and transparent EFs, kept in an arena so the current file
//! is an index, plus the selection state and FCI building.

use super::apdu::Sw;
use super::tlv::{constructed, tlv};

pub const MF_FID: u16 = 0x3F00;

/// One node of the tree.
#[derive(Debug, Clone)]
pub struct Node {
    pub fid: Option<u16>,
    pub aid: Option<Vec<u8>>,
    /// Short EF identifier, for READ BINARY by SFI.
    pub sfi: Option<u8>,
    pub parent: Option<usize>,
    pub kind: Kind,
    /// READ BINARY needs the PIN (`69 82` until it is verified).
    pub read_needs_pin: bool,
    /// IAS-ECC security attributes shown in the FCP (`None`: a card whose
    /// FCPs carry none).
    pub security: Option<Security>,
}

/// A file's IAS-ECC security attributes, each an access-mode byte followed by
/// one security-condition byte per bit set (ISO 7816-4 compact format). The
/// FCP shows them as `88 sfi`, `A1 { 8C contact, 9C contactless }`, `8A 05`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Security {
    pub contact: Vec<u8>,
    pub contactless: Vec<u8>,
}

/// Life cycle status "operational, activated" (ISO 7816-4 tag `8A`).
pub const LIFE_CYCLE_ACTIVATED: u8 = 0x05;

#[derive(Debug, Clone)]
pub enum Kind {
    Df,
    Ef(Vec<u8>),
}

/// The tree; node 0 is the MF.
#[derive(Debug, Clone)]
pub struct FileSystem {
    nodes: Vec<Node>,
}

impl Default for FileSystem {
    fn default() -> Self {
        Self::new()
    }
}

impl FileSystem {
    pub fn new() -> Self {
        FileSystem {
            nodes: vec![Node {
                fid: Some(MF_FID),
                aid: None,
                sfi: None,
                parent: None,
                kind: Kind::Df,
                read_needs_pin: false,
                security: None,
            }],
        }
    }

    pub const MF: usize = 0;

    /// Adds a DF under `parent`; returns its index.
    pub fn add_df(&mut self, parent: usize, fid: Option<u16>, aid: Option<&[u8]>) -> usize {
        self.push(Node {
            fid,
            aid: aid.map(<[u8]>::to_vec),
            sfi: None,
            parent: Some(parent),
            kind: Kind::Df,
            read_needs_pin: false,
            security: None,
        })
    }

    /// Adds a transparent EF under `parent`; returns its index.
    pub fn add_ef(&mut self, parent: usize, fid: u16, data: Vec<u8>) -> usize {
        self.push(Node {
            fid: Some(fid),
            aid: None,
            sfi: None,
            parent: Some(parent),
            kind: Kind::Ef(data),
            read_needs_pin: false,
            security: None,
        })
    }

    /// Gives an existing node an AID (e.g. the MF as the IAS application).
    pub fn set_aid(&mut self, node: usize, aid: &[u8]) {
        if let Some(n) = self.nodes.get_mut(node) {
            n.aid = Some(aid.to_vec());
        }
    }

    /// Protects an EF's content: READ BINARY answers `69 82` until the PIN is verified.
    pub fn set_read_needs_pin(&mut self, node: usize) {
        if let Some(n) = self.nodes.get_mut(node) {
            n.read_needs_pin = true;
        }
    }

    /// Whether reading `index` needs the PIN.
    pub fn read_needs_pin(&self, index: usize) -> bool {
        self.node(index).is_some_and(|n| n.read_needs_pin)
    }

    /// Gives a node security attributes, shown from then on in its FCP.
    pub fn set_security(&mut self, node: usize, security: Security) {
        if let Some(n) = self.nodes.get_mut(node) {
            n.security = Some(security);
        }
    }

    /// How many nodes the tree has (indexes are `0..len`).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn set_sfi(&mut self, node: usize, sfi: u8) {
        if let Some(n) = self.nodes.get_mut(node) {
            n.sfi = Some(sfi);
        }
    }

    fn push(&mut self, node: Node) -> usize {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    pub fn node(&self, index: usize) -> Option<&Node> {
        self.nodes.get(index)
    }

    pub fn is_df(&self, index: usize) -> bool {
        matches!(self.node(index).map(|n| &n.kind), Some(Kind::Df))
    }

    /// The content of an EF.
    pub fn ef_data(&self, index: usize) -> Option<&[u8]> {
        match self.node(index).map(|n| &n.kind) {
            Some(Kind::Ef(data)) => Some(data),
            _ => None,
        }
    }

    fn children(&self, df: usize) -> impl Iterator<Item = (usize, &Node)> {
        self.nodes
            .iter()
            .enumerate()
            .filter(move |(_, n)| n.parent == Some(df))
    }

    /// A direct child of `df` by FID.
    pub fn child(&self, df: usize, fid: u16) -> Option<usize> {
        self.children(df)
            .find(|(_, n)| n.fid == Some(fid))
            .map(|(i, _)| i)
    }

    /// An EF of `df` by short identifier.
    pub fn child_by_sfi(&self, df: usize, sfi: u8) -> Option<usize> {
        self.children(df)
            .find(|(_, n)| n.sfi == Some(sfi) && matches!(n.kind, Kind::Ef(_)))
            .map(|(i, _)| i)
    }

    /// A DF anywhere by its full AID.
    pub fn by_aid(&self, aid: &[u8]) -> Option<usize> {
        self.nodes
            .iter()
            .position(|n| n.aid.as_deref() == Some(aid) && matches!(n.kind, Kind::Df))
    }

    /// Walks a path of FIDs (big-endian pairs) that starts with `3F00`.
    pub fn by_path_from_mf(&self, path: &[u8]) -> Result<usize, Sw> {
        match path {
            [0x3F, 0x00, rest @ ..] if path.len() % 2 == 0 => self.by_path_from(Self::MF, rest),
            _ if path.is_empty() || path.len() % 2 != 0 => Err(Sw::WRONG_LENGTH),
            _ => Err(Sw::FILE_NOT_FOUND),
        }
    }

    /// Walks a path of FIDs (big-endian pairs) down from the DF `start`.
    pub fn by_path_from(&self, start: usize, path: &[u8]) -> Result<usize, Sw> {
        if path.len() % 2 != 0 {
            return Err(Sw::WRONG_LENGTH);
        }
        let mut at = start;
        for c in path.chunks_exact(2) {
            if !self.is_df(at) {
                return Err(Sw::FILE_NOT_FOUND);
            }
            at = self
                .child(at, u16::from_be_bytes([c[0], c[1]]))
                .ok_or(Sw::FILE_NOT_FOUND)?;
        }
        Ok(at)
    }

    /// The ISO 7816-4 search of SELECT by FID (P1 00): the MF, the current DF
    /// itself, its children, its parent, the parent's children, the MF's children.
    pub fn find_fid(&self, df: usize, fid: u16) -> Option<usize> {
        if fid == MF_FID {
            return Some(Self::MF);
        }
        let parent = self.node(df).and_then(|n| n.parent);
        let is = |i: usize| self.node(i).and_then(|n| n.fid) == Some(fid);
        if is(df) {
            return Some(df);
        }
        self.child(df, fid)
            .or_else(|| parent.filter(|p| is(*p)))
            .or_else(|| parent.and_then(|p| self.child(p, fid)))
            .or_else(|| self.child(Self::MF, fid))
    }

    /// The FCP template: `62 { 80 size, 82 01 01, 83 fid }` for an EF,
    /// `62 { 82 01 38, 83 fid, 84 AID }` for a DF; with security attributes,
    /// followed by `88 sfi` (EF only, `88 00`: none), `A1 { 8C, 9C }` and `8A 05`.
    pub fn fcp(&self, index: usize) -> Vec<u8> {
        let Some(node) = self.node(index) else {
            return Vec::new();
        };
        let fid = node.fid.map(|f| tlv(&[0x83], &f.to_be_bytes()));
        let mut parts = Vec::new();
        match &node.kind {
            Kind::Ef(data) => {
                let size = u16::try_from(data.len()).unwrap_or(u16::MAX);
                parts.push(tlv(&[0x80], &size.to_be_bytes()));
                parts.push(tlv(&[0x82], &[0x01]));
                parts.extend(fid);
            }
            Kind::Df => {
                parts.push(tlv(&[0x82], &[0x38]));
                parts.extend(fid);
                if let Some(aid) = &node.aid {
                    parts.push(tlv(&[0x84], aid));
                }
            }
        }
        if let Some(security) = &node.security {
            if let Kind::Ef(_) = node.kind {
                // ISO 7816-4: the SFI in bits 8-4; `88 00`: the EF has none.
                parts.push(tlv(&[0x88], &[node.sfi.map_or(0, |s| s << 3)]));
            }
            parts.push(constructed(
                &[0xA1],
                &[
                    tlv(&[0x8C], &security.contact),
                    tlv(&[0x9C], &security.contactless),
                ],
            ));
            parts.push(tlv(&[0x8A], &[LIFE_CYCLE_ACTIVATED]));
        }
        constructed(&[0x62], &parts)
    }
}

/// The current DF and EF of a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub df: usize,
    pub ef: Option<usize>,
}

impl Default for Cursor {
    fn default() -> Self {
        Cursor {
            df: FileSystem::MF,
            ef: None,
        }
    }
}

impl Cursor {
    /// Makes `index` current: a DF becomes the current DF, an EF the current
    /// EF (its parent becoming the current DF).
    pub fn select(&mut self, fs: &FileSystem, index: usize) {
        if fs.is_df(index) {
            *self = Cursor { df: index, ef: None };
        } else if let Some(parent) = fs.node(index).and_then(|n| n.parent) {
            *self = Cursor {
                df: parent,
                ef: Some(index),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (FileSystem, usize, usize) {
        let mut fs = FileSystem::new();
        let df = fs.add_df(FileSystem::MF, Some(0x0001), Some(&[0xA0, 1]));
        let ef = fs.add_ef(df, 0xE001, vec![1, 2, 3]);
        (fs, df, ef)
    }

    #[test]
    fn paths_and_aids() {
        let (fs, df, ef) = sample();
        assert_eq!(fs.by_path_from_mf(&[0x3F, 0]), Ok(FileSystem::MF));
        assert_eq!(fs.by_path_from_mf(&[0x3F, 0, 0, 1, 0xE0, 1]), Ok(ef));
        assert_eq!(fs.by_path_from_mf(&[0, 1, 0xE0, 1]), Err(Sw::FILE_NOT_FOUND));
        assert_eq!(
            fs.by_path_from_mf(&[0x3F, 0, 0, 1, 0xE0, 1, 0, 0]),
            Err(Sw::FILE_NOT_FOUND)
        );
        assert_eq!(fs.by_path_from_mf(&[0x3F, 0, 0]), Err(Sw::WRONG_LENGTH));
        assert_eq!(fs.by_aid(&[0xA0, 1]), Some(df));
        assert_eq!(fs.by_aid(&[0xA0]), None);
    }

    #[test]
    fn fcp_layout() {
        let (fs, df, ef) = sample();
        assert_eq!(
            fs.fcp(ef),
            [0x62, 0x0B, 0x80, 2, 0, 3, 0x82, 1, 1, 0x83, 2, 0xE0, 1]
        );
        assert_eq!(
            fs.fcp(df),
            [0x62, 0x0B, 0x82, 1, 0x38, 0x83, 2, 0, 1, 0x84, 2, 0xA0, 1]
        );
    }

    /// The EF.SN.ICC FCP of a real CPS3 (OpenSC issue #2275), rebuilt.
    #[test]
    fn fcp_with_security_attributes() {
        let mut fs = FileSystem::new();
        let ef = fs.add_ef(FileSystem::MF, 0xD003, vec![0; 12]);
        fs.set_sfi(ef, 0x1C);
        let acl = vec![0x7B, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00];
        fs.set_security(
            ef,
            Security {
                contact: acl.clone(),
                contactless: acl,
            },
        );
        let real = "62 25 80 02 00 0C 82 01 01 83 02 D0 03 88 01 E0 A1 12 8C 07 7B FF FF FF FF FF 00 \
                    9C 07 7B FF FF FF FF FF 00 8A 01 05";
        let real: Vec<u8> = real
            .split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect();
        assert_eq!(fs.fcp(ef), real);
        let other = fs.add_ef(FileSystem::MF, 0x2F00, vec![0; 3]);
        fs.set_security(
            other,
            Security {
                contact: vec![0x01, 0x00],
                contactless: vec![0x01, 0xFF],
            },
        );
        assert_eq!(fs.fcp(other)[13..16], [0x88, 0x01, 0x00]);
    }
}
