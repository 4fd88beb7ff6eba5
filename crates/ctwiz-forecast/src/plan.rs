//! What the engine works out once per supporting-data release, not per
//! patient: the CVX map as a table indexed by the code (no hashing per dose)
//! with each vaccine's antigens and live virus conflict rows beside it, and
//! per antigen what decides which of its series are relevant, so that a
//! forecast reads only the series it evaluates.

use crate::supporting_data::{Cvx, CvxAssociation, SeriesType, Sex, SupportingData};

/// A supporting-data release prepared for forecasting (built by
/// [`crate::Engine::new`], shared by the engine's clones).
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// `slots[slot_of[cvx] - 1]` is the vaccine's entry; 0 = not in the data.
    slot_of: Box<[u16]>,
    slots: Vec<CvxSlot>,
    /// Per antigen (by id), parallel to its series: who each series is for.
    admissions: Box<[Box<[Admission]>]>,
}

/// Who a series is for, as far as the data says without the patient's
/// observations (CDSi 5, gender and series type).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Admission {
    /// One bit per [`Sex`] the series admits.
    sexes: u8,
    /// A risk series: relevant only with one of its indications.
    pub risk: bool,
}

impl Admission {
    fn bit(sex: Sex) -> u8 {
        1 << (sex as u8)
    }

    /// Does the series admit a patient of this sex?
    #[inline]
    pub(crate) fn admits(self, sex: Sex) -> bool {
        self.sexes & Admission::bit(sex) != 0
    }
}

/// One CVX code of the supporting data.
#[derive(Debug)]
pub(crate) struct CvxSlot {
    /// Is the code in the CVX map (`SupportingData::cvx`)? A code only
    /// named by a live virus conflict is not a known vaccine.
    pub known: bool,
    /// The code's antigen associations (the CVX map's).
    pub antigens: Box<[CvxAssociation]>,
    /// Live virus conflict rows with this vaccine as the earlier one
    /// (`SupportingData::conflicts_by_previous`) with their later vaccine,
    /// sorted by the later vaccine; empty when none.
    pub conflicts_as_previous: Box<[(Cvx, usize)]>,
    /// Is this vaccine the later one of some live virus conflict
    /// (`SupportingData::live_virus_current`)?
    pub live_current: bool,
}

impl Plan {
    pub(crate) fn new(data: &SupportingData) -> Plan {
        let mut codes: Vec<Cvx> = data.cvx.keys().copied().collect();
        codes.extend(data.conflicts_by_previous.keys().copied());
        codes.extend(data.live_virus_current.iter().copied());
        codes.sort_unstable();
        codes.dedup();
        let len = codes.last().map_or(0, |c| usize::from(c.0) + 1);
        let mut slot_of = vec![0u16; len].into_boxed_slice();
        let mut slots = Vec::with_capacity(codes.len());
        for cvx in codes {
            slots.push(CvxSlot {
                known: data.cvx.contains_key(&cvx),
                antigens: data
                    .cvx
                    .get(&cvx)
                    .map(|e| e.antigens.clone().into_boxed_slice())
                    .unwrap_or_default(),
                conflicts_as_previous: {
                    let mut rows: Vec<(Cvx, usize)> = data
                        .conflicts_by_previous
                        .get(&cvx)
                        .into_iter()
                        .flatten()
                        .filter_map(|&r| data.live_virus_conflicts.get(r).map(|c| (c.current, r)))
                        .collect();
                    rows.sort_unstable();
                    rows.into_boxed_slice()
                },
                live_current: data.live_virus_current.binary_search(&cvx).is_ok(),
            });
            // More than 65,535 distinct codes cannot happen (CVX codes are
            // at most 4 digits); such a code would simply be unknown.
            if let Ok(n) = u16::try_from(slots.len()) {
                slot_of[usize::from(cvx.0)] = n;
            }
        }
        let admissions = data
            .antigens
            .iter()
            .map(|a| {
                a.series
                    .iter()
                    .map(|s| Admission {
                        sexes: if s.required_gender.is_empty() {
                            u8::MAX
                        } else {
                            s.required_gender
                                .iter()
                                .fold(0, |m, &sex| m | Admission::bit(sex))
                        },
                        risk: s.series_type == SeriesType::Risk,
                    })
                    .collect()
            })
            .collect();
        Plan {
            slot_of,
            slots,
            admissions,
        }
    }

    /// Who each series of the antigen is for, parallel to its series.
    #[inline]
    pub(crate) fn admissions(&self, antigen: usize) -> &[Admission] {
        self.admissions.get(antigen).map_or(&[], |a| &a[..])
    }

    /// The live virus conflict rows (indices into
    /// `SupportingData::live_virus_conflicts`) with `previous` as the
    /// earlier vaccine and `current` as the later one.
    #[inline]
    pub(crate) fn conflicts(
        &self,
        previous: Cvx,
        current: Cvx,
    ) -> impl Iterator<Item = usize> + '_ {
        let rows = self
            .slot(previous)
            .map_or(&[][..], |s| &s.conflicts_as_previous[..]);
        let from = rows.partition_point(|&(c, _)| c < current);
        rows[from..]
            .iter()
            .take_while(move |&&(c, _)| c == current)
            .map(|&(_, r)| r)
    }

    /// The code's entry, if the supporting data knows it at all.
    #[inline]
    pub(crate) fn slot(&self, cvx: Cvx) -> Option<&CvxSlot> {
        let n = *self.slot_of.get(usize::from(cvx.0))?;
        self.slots.get(usize::from(n).checked_sub(1)?)
    }
}
